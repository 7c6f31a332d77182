"""The seed data of patrols: the visit policy and the incident catalogue (categories and
their items, 事项), after the grid platforms described in docs/glossary.md: "10 categories, 60
management and service items" (Yangquan), 14 categories in Tianjin. Both are edited in the
admin afterwards; seeding never overwrites an edit. Codes are never reused or renumbered:
incidents and cases keep pointing at them. Each item's time limits and who handles it are the
case flow's (cases/catalogue.py)."""

POLICY = {
    "elderly_living_alone": 7,
    "key_attention": 14,
    "left_behind_children": 14,
    "disabled": 14,
    "low_income": 30,
    "party_member": 30,
    "default": 30,
}

CATALOGUE = [
    (
        "01",
        "民生服务",
        "People's livelihood services",
        [
            ("0101", "困难群众帮扶", "Help for families in difficulty"),
            ("0102", "独居老人关爱", "Care for the elderly living alone"),
            ("0103", "留守儿童关爱", "Care for left-behind children"),
            ("0104", "社会保障咨询", "Social security enquiries"),
            ("0105", "就业帮扶", "Employment assistance"),
            ("0106", "残疾人帮扶", "Support for people with disabilities"),
            ("0107", "低保救助申请", "Application for minimum living allowance"),
            ("0108", "居家养老服务", "Home care for the elderly"),
        ],
    ),
    (
        "02",
        "污染防治",
        "Pollution prevention",
        [
            ("0201", "垃圾乱堆乱放", "Rubbish dumped"),
            ("0202", "露天焚烧", "Open burning"),
            ("0203", "污水直排", "Untreated sewage discharge"),
            ("0204", "扬尘污染", "Dust from building sites or roads"),
            ("0205", "噪声扰民", "Noise nuisance"),
            ("0206", "畜禽养殖污染", "Pollution from livestock farming"),
            ("0207", "餐饮油烟", "Cooking fumes from a restaurant"),
        ],
    ),
    (
        "03",
        "综合治理",
        "Public order and comprehensive governance",
        [
            ("0301", "矛盾纠纷", "Dispute between residents"),
            ("0302", "治安隐患", "Public order risk"),
            ("0303", "重点人员动态", "Key-attention person's situation"),
            ("0304", "邪教与非法宗教活动", "Illegal religious or cult activity"),
            ("0305", "电信网络诈骗", "Telephone or online fraud"),
            ("0306", "流动人口登记", "Registration of migrant residents"),
        ],
    ),
    (
        "04",
        "安全隐患",
        "Safety hazards",
        [
            ("0401", "消防隐患", "Fire hazard"),
            ("0402", "燃气安全", "Gas safety"),
            ("0403", "危房", "Dangerous building"),
            ("0404", "电动车违规充电", "E-bike charged unsafely"),
            ("0405", "防汛隐患", "Flood risk"),
            ("0406", "道路交通安全隐患", "Road traffic hazard"),
            ("0407", "安全生产隐患", "Workplace safety hazard"),
        ],
    ),
    (
        "05",
        "市容环境",
        "City appearance and environment",
        [
            ("0501", "占道经营", "Street vending on the road"),
            ("0502", "违章搭建", "Illegal construction"),
            ("0503", "乱贴乱画", "Illegal posters and graffiti"),
            ("0504", "绿化损毁", "Damaged greenery"),
            ("0505", "违规户外广告", "Unauthorised outdoor advertising"),
            ("0506", "车辆乱停乱放", "Vehicles parked where they obstruct"),
        ],
    ),
    (
        "06",
        "城市部件",
        "Public facilities",
        [
            ("0601", "井盖缺失破损", "Missing or broken manhole cover"),
            ("0602", "路灯不亮", "Street light out"),
            ("0603", "道路破损", "Damaged road surface"),
            ("0604", "供水管道漏水", "Leaking water main"),
            ("0605", "排水管道堵塞", "Blocked drain or sewer"),
            ("0606", "公共健身设施损坏", "Damaged public fitness equipment"),
        ],
    ),
    (
        "07",
        "食品药品安全",
        "Food and drug safety",
        [
            ("0701", "无证经营", "Trading without a licence"),
            ("0702", "过期食品", "Expired food on sale"),
            ("0703", "餐饮卫生问题", "Poor hygiene in a restaurant"),
            ("0704", "假冒伪劣药品", "Counterfeit or substandard medicine"),
        ],
    ),
    (
        "08",
        "村务社务",
        "Village and community affairs",
        [
            ("0801", "群众诉求", "Resident's request"),
            ("0802", "政策宣传", "Policy publicity"),
            ("0803", "人口信息变更", "Change in household registration data"),
            ("0804", "村（居）务公开", "Disclosure of village or community affairs"),
            ("0805", "证明材料开具", "Request for a certificate"),
        ],
    ),
    (
        "09",
        "卫生健康",
        "Health and epidemic prevention",
        [
            ("0901", "传染病疫情线索", "Suspected case of an infectious disease"),
            ("0902", "病媒生物孳生", "Breeding rats, mosquitoes or flies"),
            ("0903", "家庭医生签约服务", "Family doctor services"),
            ("0904", "疫苗接种咨询", "Vaccination enquiries"),
            ("0905", "非法行医", "Unlicensed medical practice"),
        ],
    ),
    (
        "10",
        "矛盾纠纷调解",
        "Dispute mediation",
        [
            ("1001", "邻里纠纷", "Dispute between neighbours"),
            ("1002", "婚姻家庭纠纷", "Marriage or family dispute"),
            ("1003", "土地承包纠纷", "Land contract dispute"),
            ("1004", "劳资纠纷", "Unpaid wages or labour dispute"),
            ("1005", "物业服务纠纷", "Dispute with a property manager"),
            ("1006", "征地拆迁纠纷", "Dispute over land acquisition or demolition"),
        ],
    ),
]


def seed(VisitPolicy, IncidentCategory):
    """Create what is missing (models passed in, so that a migration can use its own)."""
    for flag, days in POLICY.items():
        VisitPolicy.objects.get_or_create(flag=flag, defaults={"interval_days": days})
    for code, name, name_en, items in CATALOGUE:
        category, _ = IncidentCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
        for item_code, item_name, item_en in items:
            IncidentCategory.objects.get_or_create(
                code=item_code,
                defaults={"name": item_name, "name_en": item_en, "parent": category},
            )
