"""Banks lending to Zhejiang projects: policy, state-owned, joint-stock, city and rural banks.

``region_code`` is the area a bank (or its branch) serves: the province for provincial branches,
the city for city branches and city banks, the county for rural commercial banks.
"""

from __future__ import annotations

from typing import Any, Final

BANKS: Final = (
    ("cdb-zj", "国家开发银行浙江省分行", "policy", "330000"),
    ("eximbank-zj", "中国进出口银行浙江省分行", "policy", "330000"),
    ("adbc-zj", "中国农业发展银行浙江省分行", "policy", "330000"),
    ("icbc-zj", "中国工商银行浙江省分行", "state_owned", "330000"),
    ("abc-zj", "中国农业银行浙江省分行", "state_owned", "330000"),
    ("boc-zj", "中国银行浙江省分行", "state_owned", "330000"),
    ("ccb-zj", "中国建设银行浙江省分行", "state_owned", "330000"),
    ("bocom-zj", "交通银行浙江省分行", "state_owned", "330000"),
    ("psbc-zj", "中国邮政储蓄银行浙江省分行", "state_owned", "330000"),
    ("czbank", "浙商银行", "joint_stock", "330000"),
    ("cmb-hz", "招商银行杭州分行", "joint_stock", "330100"),
    ("cib-hz", "兴业银行杭州分行", "joint_stock", "330100"),
    ("citic-nb", "中信银行宁波分行", "joint_stock", "330200"),
    ("hzbank", "杭州银行", "city_commercial", "330100"),
    ("nbcb", "宁波银行", "city_commercial", "330200"),
    ("wzbank", "温州银行", "city_commercial", "330300"),
    ("tzbank", "台州银行", "city_commercial", "331000"),
    ("zjtlcb", "浙江泰隆商业银行", "city_commercial", "331000"),
    ("sxccb", "绍兴银行", "city_commercial", "330600"),
    ("zjrcu", "浙江农商联合银行", "rural", "330000"),
    ("hzurcb", "杭州联合农村商业银行", "rural", "330102"),
    ("xsrcb", "浙江萧山农村商业银行", "rural", "330109"),
    ("yinzhou-rcb", "宁波鄞州农村商业银行", "rural", "330212"),
    ("ywrcb", "浙江义乌农村商业银行", "rural", "330782"),
)


def bank_dicts() -> list[dict[str, Any]]:
    """Raw ``bank`` records."""
    return [
        {"id": bank_id, "name": name, "kind": kind, "region_code": region}
        for bank_id, name, kind, region in BANKS
    ]
