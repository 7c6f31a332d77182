"""The seed of the service definitions: a few attributes for the items a resident's app posts
most, after what the station needs to act without calling back. Pure data; written by the data
migration open311/0002 (get-or-create: an admin's edit is kept) and edited in the admin after.
Items without attributes have `metadata` false and need no service definition."""

ATTRIBUTES = {
    "0202": [  # open burning
        (
            "what_burns",
            "singlevaluelist",
            True,
            "焚烧的是什么？",
            "What is burning?",
            "",
            [
                ("straw", "秸秆", "Straw"),
                ("rubbish", "垃圾", "Rubbish"),
                ("other", "其他", "Other"),
            ],
        ),
    ],
    "0205": [  # noise
        (
            "noise_source",
            "singlevaluelist",
            True,
            "噪声来源",
            "Where does the noise come from?",
            "",
            [
                ("construction", "施工", "Building work"),
                ("shop", "商铺", "A shop"),
                ("neighbour", "邻居", "A neighbour"),
                ("traffic", "交通", "Traffic"),
                ("other", "其他", "Other"),
            ],
        ),
        (
            "heard_at",
            "datetime",
            False,
            "听到噪声的时间",
            "When was it heard?",
            "ISO 8601, 如 2026-05-01T22:30:00+08:00",
            [],
        ),
    ],
    "0506": [  # vehicles parked where they obstruct
        (
            "vehicle_kinds",
            "multivaluelist",
            False,
            "车辆类型",
            "Which vehicles?",
            "",
            [
                ("car", "汽车", "Car"),
                ("ebike", "电动车", "E-bike"),
                ("tricycle", "三轮车", "Tricycle"),
            ],
        ),
        ("plate_number", "string", False, "车牌号", "Number plate", "如 豫R12345", []),
    ],
    "0601": [  # manhole cover
        (
            "cover_state",
            "singlevaluelist",
            True,
            "井盖情况",
            "What is wrong with the cover?",
            "",
            [
                ("missing", "缺失", "Missing"),
                ("broken", "破损", "Broken"),
                ("loose", "松动", "Loose"),
            ],
        ),
    ],
    "0602": [  # street light out
        ("lights_out", "number", False, "不亮的路灯数量", "How many lights are out?", "", []),
        ("pole_number", "string", False, "灯杆编号", "Number on the pole", "", []),
    ],
    "0604": [  # leaking water main
        ("detail", "text", True, "漏水位置和情况", "Where and how much does it leak?", "", []),
    ],
    "0801": [  # a resident's request
        ("detail", "text", True, "诉求内容", "What do you ask for?", "", []),
    ],
}


def seed(IncidentCategory, ServiceAttribute) -> int:
    """Adds the attributes a database lacks; returns how many it added."""
    added = 0
    for item_code, rows in ATTRIBUTES.items():
        item = IncidentCategory.objects.filter(code=item_code, parent__isnull=False).first()
        if item is None:
            continue
        for order, (code, datatype, required, zh, en, how, values) in enumerate(rows, 1):
            _, created = ServiceAttribute.objects.get_or_create(
                item=item,
                code=code,
                defaults={
                    "datatype": datatype,
                    "required": required,
                    "order": order,
                    "description": zh,
                    "description_en": en,
                    "datatype_description": how,
                    "values": [{"key": k, "name": n, "name_en": e} for k, n, e in values],
                },
            )
            added += created
    return added
