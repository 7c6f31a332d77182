from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The six-order case flow: cases, their events, cards, the catalogue's terms, departments."""

    name = "cases"

    def ready(self):
        from django.db.models import CharField, Value
        from django.db.models.functions import Cast, Concat

        from notifications.selectors import topic_scope_register

        from .selectors import visible_cases

        def case_topics(user):
            # The outbox's topic of a case is "case:<pk>" (services._notify).
            return (
                visible_cases(user=user)
                .annotate(topic=Concat(Value("case:"), Cast("pk", CharField())))
                .values("topic")
            )

        topic_scope_register("case", case_topics)
