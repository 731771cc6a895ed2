"""Zhejiang's divisions (GB/T 2260, as after the 2021 Hangzhou and Wenzhou changes).

Each carries its seat of government to about 0.02°. Weights are rough 2023 GDP in 亿元: across the
province for cities, within the city for counties; the generator spreads enterprises and projects
by them, so Hangzhou and Ningbo dominate and Zhoushan, Quzhou and Lishui stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    name_en: str
    lon: float
    lat: float
    weight: float
    # Island and coastal seats have little land around them; parcels stay closer.
    radius_km: float = 5.0

    @property
    def short(self) -> str:
        """The name without its level suffix, as it appears in company names: 萧山, 景宁."""
        for suffix in ("畲族自治县", "省", "市", "区", "县"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name.removesuffix(suffix)
        return self.name

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"

    @property
    def is_district(self) -> bool:
        return self.name.endswith("区")


PROVINCE: Final = Division("330000", "浙江省", "Zhejiang", 120.153, 30.267, 1.0)

CITIES: Final = (
    Division("330100", "杭州市", "Hangzhou", 120.210, 30.246, 20059),
    Division("330200", "宁波市", "Ningbo", 121.624, 29.860, 16453),
    Division("330300", "温州市", "Wenzhou", 120.699, 27.994, 8730),
    Division("330400", "嘉兴市", "Jiaxing", 120.756, 30.746, 7062),
    Division("330500", "湖州市", "Huzhou", 120.088, 30.894, 3902),
    Division("330600", "绍兴市", "Shaoxing", 120.580, 30.030, 7791),
    Division("330700", "金华市", "Jinhua", 119.647, 29.079, 6011),
    Division("330800", "衢州市", "Quzhou", 118.859, 28.970, 2125),
    Division("330900", "舟山市", "Zhoushan", 122.207, 29.985, 2100, radius_km=3.0),
    Division("331000", "台州市", "Taizhou", 121.421, 28.656, 6241),
    Division("331100", "丽水市", "Lishui", 119.923, 28.468, 1964),
)

_D = Division
COUNTIES: Final = (
    # Hangzhou
    _D("330102", "上城区", "Shangcheng District", 120.190, 30.255, 2900),
    _D("330105", "拱墅区", "Gongshu District", 120.160, 30.300, 1400),
    _D("330106", "西湖区", "Xihu District", 120.130, 30.259, 1900),
    _D("330108", "滨江区", "Binjiang District", 120.212, 30.208, 2400),
    _D("330109", "萧山区", "Xiaoshan District", 120.264, 30.184, 2200),
    _D("330110", "余杭区", "Yuhang District", 120.020, 30.280, 3200),
    _D("330111", "富阳区", "Fuyang District", 119.960, 30.049, 1000),
    _D("330112", "临安区", "Lin'an District", 119.724, 30.234, 700),
    _D("330113", "临平区", "Linping District", 120.300, 30.420, 900),
    _D("330114", "钱塘区", "Qiantang District", 120.350, 30.300, 1100),
    _D("330122", "桐庐县", "Tonglu County", 119.691, 29.797, 450),
    _D("330127", "淳安县", "Chun'an County", 119.042, 29.609, 300),
    _D("330182", "建德市", "Jiande", 119.281, 29.475, 450),
    # Ningbo
    _D("330203", "海曙区", "Haishu District", 121.551, 29.874, 1500),
    _D("330205", "江北区", "Jiangbei District", 121.555, 29.887, 900),
    _D("330206", "北仑区", "Beilun District", 121.844, 29.899, 2500),
    _D("330211", "镇海区", "Zhenhai District", 121.630, 29.950, 1400),
    _D("330212", "鄞州区", "Yinzhou District", 121.547, 29.817, 3000),
    _D("330213", "奉化区", "Fenghua District", 121.407, 29.655, 800),
    _D("330225", "象山县", "Xiangshan County", 121.869, 29.476, 700, radius_km=3.0),
    _D("330226", "宁海县", "Ninghai County", 121.430, 29.288, 900),
    _D("330281", "余姚市", "Yuyao", 121.154, 30.038, 1600),
    _D("330282", "慈溪市", "Cixi", 121.266, 30.170, 2600),
    # Wenzhou
    _D("330302", "鹿城区", "Lucheng District", 120.655, 28.015, 1500),
    _D("330303", "龙湾区", "Longwan District", 120.812, 27.933, 900),
    _D("330304", "瓯海区", "Ouhai District", 120.620, 27.970, 900),
    _D("330305", "洞头区", "Dongtou District", 121.157, 27.836, 150, radius_km=1.5),
    _D("330324", "永嘉县", "Yongjia County", 120.692, 28.153, 600),
    _D("330326", "平阳县", "Pingyang County", 120.565, 27.662, 700),
    _D("330327", "苍南县", "Cangnan County", 120.426, 27.518, 500),
    _D("330328", "文成县", "Wencheng County", 120.091, 27.787, 150),
    _D("330329", "泰顺县", "Taishun County", 119.718, 27.557, 150),
    _D("330381", "瑞安市", "Rui'an", 120.655, 27.779, 1300),
    _D("330382", "乐清市", "Yueqing", 120.983, 28.113, 1600),
    _D("330383", "龙港市", "Longgang", 120.553, 27.578, 400, radius_km=3.0),
    # Jiaxing
    _D("330402", "南湖区", "Nanhu District", 120.784, 30.747, 1000),
    _D("330411", "秀洲区", "Xiuzhou District", 120.709, 30.765, 900),
    _D("330421", "嘉善县", "Jiashan County", 120.926, 30.830, 900),
    _D("330424", "海盐县", "Haiyan County", 120.946, 30.526, 700, radius_km=3.0),
    _D("330481", "海宁市", "Haining", 120.681, 30.510, 1400),
    _D("330482", "平湖市", "Pinghu", 121.015, 30.677, 1000),
    _D("330483", "桐乡市", "Tongxiang", 120.565, 30.630, 1300),
    # Huzhou
    _D("330502", "吴兴区", "Wuxing District", 120.140, 30.870, 1100),
    _D("330503", "南浔区", "Nanxun District", 120.418, 30.866, 600),
    _D("330521", "德清县", "Deqing County", 119.977, 30.542, 700),
    _D("330522", "长兴县", "Changxing County", 119.911, 31.027, 900),
    _D("330523", "安吉县", "Anji County", 119.680, 30.638, 600),
    # Shaoxing
    _D("330602", "越城区", "Yuecheng District", 120.582, 29.990, 1100),
    _D("330603", "柯桥区", "Keqiao District", 120.493, 30.083, 2100),
    _D("330604", "上虞区", "Shangyu District", 120.868, 30.033, 1300),
    _D("330624", "新昌县", "Xinchang County", 120.904, 29.500, 600),
    _D("330681", "诸暨市", "Zhuji", 120.246, 29.709, 1800),
    _D("330683", "嵊州市", "Shengzhou", 120.821, 29.589, 800),
    # Jinhua
    _D("330702", "婺城区", "Wucheng District", 119.620, 29.085, 800),
    _D("330703", "金东区", "Jindong District", 119.693, 29.099, 500),
    _D("330723", "武义县", "Wuyi County", 119.816, 28.893, 400),
    _D("330726", "浦江县", "Pujiang County", 119.892, 29.453, 350),
    _D("330727", "磐安县", "Pan'an County", 120.450, 29.054, 150),
    _D("330781", "兰溪市", "Lanxi", 119.460, 29.208, 500),
    _D("330782", "义乌市", "Yiwu", 120.075, 29.306, 2000),
    _D("330783", "东阳市", "Dongyang", 120.242, 29.289, 800),
    _D("330784", "永康市", "Yongkang", 120.047, 28.888, 800),
    # Quzhou
    _D("330802", "柯城区", "Kecheng District", 118.871, 28.936, 400),
    _D("330803", "衢江区", "Qujiang District", 118.959, 28.980, 300),
    _D("330822", "常山县", "Changshan County", 118.511, 28.901, 200),
    _D("330824", "开化县", "Kaihua County", 118.415, 29.137, 200),
    _D("330825", "龙游县", "Longyou County", 119.172, 29.028, 300),
    _D("330881", "江山市", "Jiangshan", 118.627, 28.737, 400),
    # Zhoushan
    _D("330902", "定海区", "Dinghai District", 122.107, 30.020, 900, radius_km=3.0),
    _D("330903", "普陀区", "Putuo District", 122.301, 29.949, 800, radius_km=2.5),
    _D("330921", "岱山县", "Daishan County", 122.205, 30.244, 500, radius_km=2.0),
    _D("330922", "嵊泗县", "Shengsi County", 122.451, 30.726, 150, radius_km=1.2),
    # Taizhou
    _D("331002", "椒江区", "Jiaojiang District", 121.442, 28.673, 900),
    _D("331003", "黄岩区", "Huangyan District", 121.262, 28.650, 700),
    _D("331004", "路桥区", "Luqiao District", 121.373, 28.582, 800),
    _D("331022", "三门县", "Sanmen County", 121.376, 29.105, 350),
    _D("331023", "天台县", "Tiantai County", 121.007, 29.143, 380),
    _D("331024", "仙居县", "Xianju County", 120.729, 28.847, 330),
    _D("331081", "温岭市", "Wenling", 121.386, 28.372, 1400),
    _D("331082", "临海市", "Linhai", 121.145, 28.858, 900),
    _D("331083", "玉环市", "Yuhuan", 121.232, 28.136, 800, radius_km=3.0),
    # Lishui
    _D("331102", "莲都区", "Liandu District", 119.913, 28.446, 500),
    _D("331121", "青田县", "Qingtian County", 120.290, 28.139, 300),
    _D("331122", "缙云县", "Jinyun County", 120.091, 28.659, 300),
    _D("331123", "遂昌县", "Suichang County", 119.276, 28.593, 200),
    _D("331124", "松阳县", "Songyang County", 119.482, 28.449, 170),
    _D("331125", "云和县", "Yunhe County", 119.573, 28.116, 110),
    _D("331126", "庆元县", "Qingyuan County", 119.063, 27.619, 110),
    _D("331127", "景宁畲族自治县", "Jingning She Autonomous County", 119.636, 27.973, 100),
    _D("331181", "龙泉市", "Longquan", 119.141, 28.074, 220),
)

CITY_BY_CODE: Final = {city.code: city for city in CITIES}
COUNTY_BY_CODE: Final = {county.code: county for county in COUNTIES}
COUNTIES_BY_CITY: Final = {
    city.code: tuple(c for c in COUNTIES if c.city_code == city.code) for city in CITIES
}
BIG_CITIES: Final = ("330100", "330200")


def region_dicts() -> list[dict[str, Any]]:
    """Raw ``region`` records: the province, then its cities, then their counties."""
    rows: list[dict[str, Any]] = [_row(PROVINCE, None)]
    rows.extend(_row(city, PROVINCE.code) for city in CITIES)
    rows.extend(_row(county, county.city_code) for county in COUNTIES)
    return rows


def _row(division: Division, parent: str | None) -> dict[str, Any]:
    return {
        "code": division.code,
        "name": division.name,
        "name_en": division.name_en,
        "level": _level(division.code),
        "parent_code": parent,
        "lon": division.lon,
        "lat": division.lat,
    }


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"
