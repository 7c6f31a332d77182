"""Page-numbered lists whose count stops at a cap: "1,000+" instead of counting every row.

At city scale a township's case list holds a hundred thousand cases; counting them all took
longer than reading the page (bench/cases.py). Like a search engine's "about 1,000+ results",
the count is exact up to `count_cap` and says so in `count_exact`; beyond it the pages go on
while rows remain, and `next` is known by reading one row more than the page.
"""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, *, more: bool | None = None):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return super().has_next() if self.more is None else self.more


class CappedPaginator(Paginator):
    count_cap = 1000

    @cached_property
    def counted(self) -> int:
        # Unordered: the count needs no sort, and an ORDER BY would pick the sort's index.
        return self.object_list.order_by()[: self.count_cap + 1].count()

    @property
    def count_exact(self) -> bool:
        return self.counted <= self.count_cap

    @cached_property
    def count(self):
        return min(self.counted, self.count_cap)

    def validate_number(self, number):
        if self.count_exact:
            return super().validate_number(number)
        # Past the cap the last page is unknown: any page is valid until it comes back empty.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if self.count_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)


class CappedCountPagination(PageNumberPagination):
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.count_exact
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"exact up to {CappedPaginator.count_cap:,}; past it, that number and count_exact false"
        )
        schema["properties"]["count_exact"] = {"type": "boolean"}
        schema["required"] = [*schema.get("required", []), "count_exact"]
        return schema
