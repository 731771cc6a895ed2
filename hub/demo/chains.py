"""The four industry chains: segments by tier, SUPPLIES edges, real product names.

Segments and edges follow ``domain-reference.md``; where it names no edges (inside the new-materials
chain) the edges below are ours and marked so. Besides the graph data each segment carries what the
generator needs to make plausible companies and projects: words that appear in company names, the
capacity unit of a "年产 N <unit>" project, and how common the segment is among enterprises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from graph_schema.model import Tier

UP, MID, DOWN = Tier.UPSTREAM, Tier.MIDSTREAM, Tier.DOWNSTREAM


@dataclass(frozen=True, slots=True)
class Segment:
    chain_id: str
    slug: str
    name: str
    name_en: str
    tier: Tier
    industry_codes: tuple[str, ...]
    products: tuple[tuple[str, str], ...]  # (slug, Chinese name)
    words: tuple[str, ...]  # industry words in company names: 杭州华晟<锂电材料>有限公司
    capacity: tuple[str, int, int] | None  # unit and range of 年产 N <unit>; None for services
    weight: float = 1.0  # relative share of the chain's enterprises

    @property
    def id(self) -> str:
        return f"{self.chain_id}.{self.slug}"


@dataclass(frozen=True, slots=True)
class Chain:
    id: str
    name: str
    name_en: str
    industry_codes: tuple[str, ...]
    segments: tuple[Segment, ...]
    # Default 2-digit code for the project code's DD part (see projects.py).
    department: str


def _chain(
    chain_id: str,
    name: str,
    name_en: str,
    codes: str,
    department: str,
    rows: list[tuple[Any, ...]],
) -> Chain:
    segments = tuple(
        Segment(chain_id, slug, zh, en, tier, tuple(ic.split()), prods, tuple(w.split()), cap, wt)
        for slug, zh, en, tier, ic, prods, w, cap, wt in rows
    )
    return Chain(chain_id, name, name_en, tuple(codes.split()), segments, department)


# Rows: slug, name, English name, tier, GB/T 4754 codes, products, name words, capacity, weight.
# fmt: off
NEV: Final = _chain(
    "nev",
    "新能源汽车",
    "New-energy vehicles",
    "3612 3670 3841 3812 3824 5267",
    "36",
    [
        ("battery-metals", "锂钴镍资源", "Battery metals", UP, "",
         (("lithium-carbonate", "电池级碳酸锂"), ("lithium-hydroxide", "电池级氢氧化锂"),
          ("cobalt-sulfate", "硫酸钴"), ("nickel-sulfate", "硫酸镍")),
         "钴业 锂业 镍业 资源", ("万吨", 1, 10), 0.5),
        ("cathode", "正极材料", "Cathode materials", UP, "",
         (("lfp", "磷酸铁锂正极材料"), ("ncm", "三元正极材料（NCM811）"),
          ("lmfp", "磷酸锰铁锂正极材料"), ("precursor", "三元前驱体")),
         "锂电材料 新能源材料 新材料", ("万吨", 2, 20), 0.8),
        ("anode", "负极材料", "Anode materials", UP, "",
         (("artificial-graphite", "人造石墨负极材料"), ("silicon-carbon", "硅碳负极材料"),
          ("hard-carbon", "硬碳负极材料")),
         "碳材料 新材料 炭素", ("万吨", 2, 15), 0.6),
        ("electrolyte", "电解液", "Electrolyte", UP, "",
         (("lipf6", "六氟磷酸锂"), ("electrolyte", "锂离子电池电解液"),
          ("lifsi", "双氟磺酰亚胺锂（LiFSI）")),
         "化学 氟化工 新材料", ("万吨", 1, 10), 0.5),
        ("separator", "隔膜", "Separators", UP, "",
         (("wet-pe", "湿法PE隔膜"), ("coated", "陶瓷涂覆隔膜"), ("dry-pp", "干法PP隔膜")),
         "膜科技 新材料 隔膜", ("亿平方米", 2, 20), 0.4),
        ("magnets", "稀土永磁", "Rare-earth magnets", UP, "",
         (("ndfeb", "烧结钕铁硼永磁体"), ("bonded", "粘结钕铁硼磁体")),
         "磁业 磁材 磁电", ("吨", 2000, 20000), 0.6),
        ("chips", "车规级芯片", "Automotive chips", UP, "3973",
         (("mcu", "车规级MCU"), ("sic-mosfet", "车规级SiC MOSFET"), ("igbt", "车规级IGBT芯片")),
         "微电子 半导体 芯科技", ("万片", 6, 60), 0.5),
        ("cells", "动力电池电芯", "Battery cells", MID, "3841",
         (("lfp-prismatic", "方形磷酸铁锂电芯"), ("cylindrical-4680", "4680大圆柱电池"),
          ("pouch", "三元软包电芯")),
         "电池 锂电 动力电池 储能科技", ("GWh", 5, 40), 1.0),
        ("packs", "电池包与BMS", "Battery packs and BMS", MID, "3841",
         (("ctp-pack", "CTP电池包"), ("bms", "电池管理系统（BMS）"), ("ess", "储能电池系统")),
         "能源科技 电池系统 储能", ("GWh", 2, 20), 0.9),
        ("motors", "驱动电机", "Drive motors", MID, "3812",
         (("pmsm", "永磁同步驱动电机"), ("hairpin", "扁线电机"), ("e-axle", "三合一电驱动总成")),
         "电机 电驱动 动力科技", ("万台", 10, 100), 1.2),
        ("controllers", "电控与功率模块", "Controllers and power modules", MID, "3824",
         (("inverter", "电机控制器"), ("sic-module", "SiC功率模块"), ("obc", "车载充电机（OBC）"),
          ("dcdc", "DC-DC转换器")),
         "电气 电控 电力电子", ("万套", 10, 100), 0.9),
        ("thermal", "热管理", "Thermal management", MID, "3670",
         (("heat-pump", "热泵空调系统"), ("e-compressor", "电动压缩机"),
          ("cold-plate", "电池液冷板")),
         "热管理 汽车空调 热系统", ("万套", 20, 200), 0.9),
        ("cockpit", "智能座舱与自动驾驶", "Smart cockpit and ADAS", MID, "3670",
         (("cockpit-domain", "智能座舱域控制器"), ("adas-domain", "自动驾驶域控制器"),
          ("lidar", "激光雷达"), ("hud", "抬头显示（HUD）")),
         "智能科技 智行 汽车电子", ("万套", 10, 100), 0.9),
        ("body-chassis", "车身底盘零部件", "Body and chassis parts", MID, "3670",
         (("mega-casting", "一体化压铸车身件"), ("air-suspension", "空气悬架"),
          ("brake-by-wire", "线控制动系统"), ("subframe", "铝合金副车架")),
         "汽车零部件 汽配 机械 底盘系统", ("万套", 20, 300), 2.2),
        ("vehicle", "整车制造", "Vehicle assembly", DOWN, "3612",
         (("bev-sedan", "纯电动轿车"), ("phev-suv", "插电式混合动力SUV"),
          ("e-truck", "新能源物流车"), ("e-bus", "纯电动客车")),
         "汽车 新能源汽车 汽车制造", ("万辆", 5, 40), 0.25),
        ("charging", "充换电设施", "Charging and swapping", DOWN, "5267",
         (("dc-charger", "直流快充桩"), ("ac-charger", "交流充电桩"), ("swap-station", "换电站"),
          ("liquid-cooled", "液冷超充桩")),
         "充电科技 能源服务 新能源", ("万台", 1, 10), 0.7),
        ("recycling", "动力电池回收", "Battery recycling", DOWN, "",
         (("black-mass", "电池黑粉"), ("second-life", "梯次利用储能电池"),
          ("recovered-salts", "再生镍钴锂盐")),
         "资源循环 再生资源 环保科技", ("万吨", 2, 20), 0.5),
    ],
)

IC: Final = _chain(
    "ic",
    "集成电路",
    "Integrated circuits",
    "6520 3973 3972 3985 3562",
    "39",
    [
        ("eda-ip", "EDA与IP核", "EDA and IP cores", UP, "6520",
         (("eda-tools", "EDA设计软件"), ("cpu-ip", "处理器IP核"), ("serdes-ip", "高速接口IP")),
         "微电子 芯软件 集成电路", None, 0.3),
        ("wafers", "硅片", "Silicon wafers", UP, "3985",
         (("wafer-12in", "12英寸硅片"), ("wafer-8in", "8英寸硅片"), ("sic-substrate", "碳化硅衬底"),
          ("epi-wafer", "硅外延片")),
         "半导体材料 硅材料 晶体", ("万片", 60, 600), 0.6),
        ("photoresist", "光刻胶", "Photoresist", UP, "3985",
         (("krf", "KrF光刻胶"), ("arf", "ArF光刻胶"), ("i-line", "i线光刻胶")),
         "电子材料 光电材料 化学", ("吨", 200, 2000), 0.3),
        ("gases-chemicals", "电子特气与湿化学品", "Electronic gases and wet chemicals", UP, "3985",
         (("nf3", "电子级三氟化氮"), ("hf", "电子级氢氟酸"), ("h2so4", "电子级硫酸"),
          ("wf6", "六氟化钨")),
         "电子材料 特种气体 化学", ("吨", 1000, 30000), 0.5),
        ("targets", "溅射靶材", "Sputtering targets", UP, "3985",
         (("cu-target", "高纯铜靶材"), ("ti-target", "钛靶材"), ("ta-target", "钽靶材"),
          ("al-target", "高纯铝靶材")),
         "金属材料 靶材 新材料", ("万块", 1, 10), 0.4),
        ("equipment", "半导体设备", "Semiconductor equipment", UP, "3562",
         (("crystal-puller", "单晶硅生长炉"), ("cvd", "化学气相沉积设备（CVD）"),
          ("cmp", "CMP抛光设备"), ("etcher", "刻蚀机")),
         "半导体装备 精密机械 智能装备", ("台", 100, 1000), 0.8),
        ("design", "芯片设计", "Chip design", MID, "6520",
         (("soc", "SoC芯片"), ("pmic", "电源管理芯片"), ("ai-accelerator", "AI加速芯片"),
          ("mcu", "通用MCU")),
         "微电子 芯科技 集成电路 半导体", None, 1.6),
        ("fabrication", "晶圆制造", "Wafer fabrication", MID, "3973 3972",
         (("foundry-12in", "12英寸晶圆代工"), ("power-devices", "功率半导体器件"),
          ("mems", "MEMS传感器晶圆")),
         "半导体 集成电路 微电子", ("万片", 12, 120), 0.3),
        ("packaging-test", "封装测试", "Packaging and test", MID, "3973",
         (("fcbga", "FCBGA封装"), ("sip", "系统级封装（SiP）"), ("wafer-test", "晶圆测试"),
          ("fan-out", "扇出型封装")),
         "半导体 封装技术 电子", ("亿颗", 5, 50), 0.7),
        ("consumer-electronics", "消费电子", "Consumer electronics", DOWN, "",
         (("smartphone", "智能手机"), ("tws", "无线耳机"), ("smart-home", "智能家居终端")),
         "电子 智能科技 电器", ("万台", 50, 500), 1.3),
        ("automotive-electronics", "汽车电子", "Automotive electronics", DOWN, "3670",
         (("bcu", "车身控制器（BCU）"), ("mmw-radar", "毫米波雷达"), ("t-box", "车载T-Box")),
         "汽车电子 电子 智能科技", ("万套", 20, 200), 1.0),
        ("industrial-control", "工业控制", "Industrial control", DOWN, "",
         (("plc", "可编程逻辑控制器（PLC）"), ("servo", "伺服驱动器"), ("vfd", "变频器")),
         "自动化 电气 控制技术", ("万台", 5, 50), 1.0),
        ("telecom-equipment", "通信设备", "Telecom equipment", DOWN, "",
         (("base-station-5g", "5G基站设备"), ("optical-module", "光模块"),
          ("switch", "路由交换设备")),
         "通信 光电 网络科技", ("万套", 10, 100), 0.8),
        ("data-center-servers", "数据中心服务器", "Data-centre servers", DOWN, "",
         (("ai-server", "AI服务器"), ("storage-server", "存储服务器"),
          ("liquid-cooling", "液冷服务器机柜")),
         "信息技术 数据科技 计算机", ("万台", 2, 20), 0.5),
    ],
)

BIO: Final = _chain(
    "bio",
    "生物医药",
    "Biomedicine",
    "2710 2720 2761 2762 3581 7340",
    "27",
    [
        ("apis", "医药中间体与原料药", "Intermediates and APIs", UP, "2710",
         (("api", "化学原料药"), ("intermediates", "医药中间体"), ("peptide-api", "多肽原料药")),
         "药业 医药化工 制药", ("吨", 100, 3000), 1.2),
        ("excipients", "药用辅料与包材", "Excipients and packaging", UP, "",
         (("capsules", "药用空心胶囊"), ("prefilled-syringe", "预灌封注射器"),
          ("borosilicate-tube", "中硼硅药用玻璃管")),
         "药用辅料 包装材料 医药科技", ("亿粒", 10, 100), 0.6),
        ("reagents", "科研试剂与耗材", "Research reagents and consumables", UP, "",
         (("culture-media", "细胞培养基"), ("antibodies", "科研抗体试剂"),
          ("pipette-tips", "移液吸头耗材")),
         "生物科技 试剂 生命科学", None, 0.7),
        ("lab-animals", "实验动物", "Laboratory animals", UP, "",
         (("spf-mice", "SPF级实验小鼠"), ("gene-edited-models", "基因编辑动物模型")),
         "实验动物 生物技术", None, 0.2),
        ("cro", "CRO", "Contract research (CRO)", MID, "7340",
         (("preclinical", "临床前研究服务"), ("clinical-trials", "临床试验服务"),
          ("bioanalysis", "生物分析检测服务")),
         "医药研发 生物科技 医药技术", None, 0.9),
        ("cdmo", "CDMO/CMO", "Contract manufacturing (CDMO)", MID, "2710 2761",
         (("small-molecule-cdmo", "小分子CDMO服务"), ("antibody-cdmo", "抗体药物CDMO服务"),
          ("cgt-cdmo", "细胞与基因治疗CDMO服务")),
         "生物制药 医药科技 药业", ("升", 10000, 100000), 0.6),
        ("innovative-drugs", "创新药", "Innovative drugs", MID, "2720 7340",
         (("pd1", "PD-1单抗"), ("adc", "抗体偶联药物（ADC）"), ("glp1", "GLP-1受体激动剂"),
          ("kinase-inhibitor", "小分子靶向抑制剂")),
         "生物医药 医药科技 制药", None, 0.9),
        ("formulations", "化学制剂", "Chemical formulations", MID, "2720",
         (("tablets", "口服固体制剂"), ("injections", "注射剂"), ("inhalants", "吸入制剂")),
         "制药 药业 医药", ("亿片", 5, 50), 1.1),
        ("biologics", "生物制品与疫苗", "Biologics and vaccines", MID, "2761 2762",
         (("shingles-vaccine", "重组带状疱疹疫苗"), ("insulin", "胰岛素"),
          ("biosimilar", "单抗生物类似药"), ("blood-products", "血液制品")),
         "生物制品 生物技术 疫苗", ("万剂", 500, 5000), 0.6),
        ("tcm", "中药", "Traditional Chinese medicine", MID, "",
         (("decoction-pieces", "中药饮片"), ("granules", "中药配方颗粒"),
          ("patent-medicine", "中成药")),
         "中药 药业 国药", ("吨", 1000, 10000), 0.8),
        ("devices-ivd", "医疗器械与体外诊断", "Devices and IVD", MID, "3581",
         (("ivd-reagents", "体外诊断试剂"), ("ct-scanner", "CT设备"), ("stents", "冠脉支架"),
          ("orthopedic-implants", "骨科植入物"), ("ultrasound", "彩色超声诊断仪")),
         "医疗器械 医疗科技 生物科技", ("万台", 1, 10), 1.6),
        ("distribution", "医药流通", "Pharmaceutical distribution", DOWN, "",
         (("wholesale", "药品批发配送"), ("cold-chain", "医药冷链物流")),
         "医药 医药物流 药业", None, 0.7),
        ("hospitals", "医疗机构", "Hospitals", DOWN, "",
         (("general-hospital", "综合医院医疗服务"), ("specialty-hospital", "专科医院医疗服务")),
         "医疗 医院管理 健康", None, 0.3),
        ("pharmacies", "零售药店与互联网医疗", "Pharmacies and online care", DOWN, "",
         (("chain-pharmacy", "连锁药店"), ("online-hospital", "互联网医院服务"),
          ("dtp", "DTP专业药房")),
         "大药房 医药连锁 健康科技", None, 0.6),
    ],
)

MATERIALS: Final = _chain(
    "materials",
    "新材料",
    "New materials",
    "2651 2652 2661 3091 3240",
    "26",
    [
        ("rare-earths", "稀土与稀有金属", "Rare earths and rare metals", UP, "3240",
         (("prnd-oxide", "氧化镨钕"), ("tungsten", "高纯钨"), ("tantalum-niobium", "钽铌材料")),
         "稀土材料 有色金属 钨业", ("吨", 1000, 10000), 0.4),
        ("base-chemicals", "基础化工原料", "Base chemicals", UP, "",
         (("ethylene", "乙烯"), ("propylene", "丙烯"), ("px", "对二甲苯（PX）"),
          ("ahf", "无水氟化氢")),
         "化工 石化 化学", ("万吨", 10, 120), 0.9),
        ("quartz-minerals", "石英与非金属矿", "Quartz and minerals", UP, "",
         (("hp-quartz-sand", "高纯石英砂"), ("quartz-crucible", "石英坩埚"),
          ("fused-silica", "熔融石英")),
         "石英 矿业 硅材料", ("万吨", 1, 10), 0.4),
        ("alloys", "先进有色金属材料", "High-performance alloys", MID, "3240",
         (("al-alloy-plate", "高强铝合金板材"), ("copper-foil", "锂电铜箔"),
          ("titanium-bar", "钛合金棒材"), ("magnesium-alloy", "镁合金")),
         "铝业 铜业 合金 金属材料", ("万吨", 2, 30), 1.2),
        ("polymers", "先进高分子材料", "Engineering polymers", MID, "2651 2652",
         (("pc", "聚碳酸酯（PC）"), ("pa66", "尼龙66"), ("peek", "聚醚醚酮（PEEK）"),
          ("poe", "POE光伏胶膜料"), ("pbat", "PBAT可降解塑料")),
         "高分子材料 新材料 塑胶", ("万吨", 5, 60), 1.3),
        ("fibres-composites", "高性能纤维及复合材料", "Carbon fibre and composites", MID, "3091",
         (("carbon-fibre", "T700级碳纤维"), ("aramid", "芳纶纤维"), ("cfrp", "碳纤维复合材料构件"),
          ("uhmwpe", "超高分子量聚乙烯纤维")),
         "碳纤维 复合材料 新材料", ("吨", 1000, 20000), 0.8),
        ("electronic-chemicals", "电子化学品", "Electronic chemicals", MID, "2661",
         (("wet-chemicals", "超净高纯试剂"), ("cmp-slurry", "CMP抛光液"),
          ("specialty-gases", "特种电子气体")),
         "电子化学品 电子材料 化学", ("万吨", 1, 20), 0.7),
        ("display", "新型显示材料", "Display materials", MID, "",
         (("oled-emitter", "OLED发光材料"), ("polarizer", "偏光片"),
          ("liquid-crystal", "液晶材料"), ("optical-film", "光学膜")),
         "光电材料 显示材料 新材料", ("万平方米", 500, 5000), 0.5),
        ("ceramics", "先进陶瓷", "Advanced ceramics", MID, "",
         (("si3n4-substrate", "氮化硅陶瓷基板"), ("alumina", "氧化铝陶瓷"),
          ("mlcc-powder", "MLCC陶瓷粉体")),
         "陶瓷 精密陶瓷 新材料", ("万片", 100, 1000), 0.5),
        ("frontier", "前沿新材料", "Graphene and frontier materials", MID, "3091",
         (("graphene-film", "石墨烯导热膜"), ("aerogel", "气凝胶"), ("perovskite", "钙钛矿材料"),
          ("hts-tape", "高温超导带材")),
         "新材料科技 纳米科技 石墨烯", ("万平方米", 10, 200), 0.5),
        ("aerospace", "航空航天", "Aerospace", DOWN, "",
         (("airframe-parts", "航空结构件"), ("satellite-structures", "卫星结构件")),
         "航空科技 航天科技 精密制造", ("万件", 1, 10), 0.4),
        ("nev", "新能源汽车", "New-energy vehicles (materials demand)", DOWN, "",
         (("lightweight-parts", "汽车轻量化部件"), ("battery-housing", "电池壳体")),
         "汽车材料 轻量化科技 汽配", ("万套", 20, 200), 0.7),
        ("electronics", "电子信息", "Electronics", DOWN, "",
         (("ccl", "覆铜板"), ("emi-shielding", "电磁屏蔽材料")),
         "电子材料 电子科技 电子", ("万平方米", 100, 2000), 0.8),
        ("equipment", "高端装备", "High-end equipment", DOWN, "",
         (("precision-bearings", "高端精密轴承"), ("hydraulics", "液压件"),
          ("robot-reducer", "机器人减速器")),
         "精密机械 装备 智能装备", ("万套", 10, 100), 1.0),
        ("pv-wind", "光伏与风电", "PV and wind", DOWN, "",
         (("pv-glass", "光伏玻璃"), ("wind-blades", "风电叶片"), ("pv-backsheet", "光伏背板"),
          ("eva-film", "EVA胶膜")),
         "光伏 新能源 能源科技", ("GW", 2, 20), 0.9),
    ],
)

# fmt: on

CHAINS: Final = (NEV, IC, BIO, MATERIALS)
SEGMENTS: Final = tuple(segment for chain in CHAINS for segment in chain.segments)
SEGMENT_BY_ID: Final = {segment.id: segment for segment in SEGMENTS}
CHAIN_BY_ID: Final = {chain.id: chain for chain in CHAINS}


def _edges(chain_id: str, spec: str) -> list[tuple[str, str]]:
    # "a b > c d" means every one of a, b supplies every one of c, d.
    edges: list[tuple[str, str]] = []
    for line in spec.strip().splitlines():
        left, right = line.split(">")
        for source in left.split():
            for target in right.split():
                edges.append((_qualify(chain_id, source), _qualify(chain_id, target)))
    return edges


def _qualify(chain_id: str, slug: str) -> str:
    return slug if "." in slug else f"{chain_id}.{slug}"


SUPPLIES: Final = tuple(
    _edges(
        "nev",
        """
        battery-metals > cathode
        cathode anode electrolyte separator > cells
        cells > packs
        packs > vehicle recycling
        recycling > battery-metals
        magnets > motors
        chips > controllers cockpit
        motors controllers thermal cockpit body-chassis > vehicle
        """,
    )
    + _edges(
        "ic",
        """
        eda-ip > design
        wafers photoresist gases-chemicals targets equipment > fabrication
        equipment > packaging-test
        design > fabrication
        fabrication > packaging-test
        packaging-test > consumer-electronics automotive-electronics industrial-control
        packaging-test > telecom-equipment data-center-servers
        """,
    )
    + _edges(
        "bio",
        """
        apis > formulations
        excipients > formulations biologics
        reagents lab-animals > cro
        cro > innovative-drugs
        cdmo > innovative-drugs biologics
        formulations biologics devices-ivd tcm > distribution
        distribution > hospitals pharmacies
        """,
    )
    # Inside new materials the reference lists tiers only; these edges are ours.
    + _edges(
        "materials",
        """
        rare-earths > alloys
        base-chemicals > polymers fibres-composites electronic-chemicals display
        quartz-minerals > ceramics frontier
        alloys > aerospace nev equipment
        polymers > nev electronics pv-wind
        fibres-composites > aerospace nev pv-wind
        electronic-chemicals display ceramics > electronics
        ceramics > equipment
        frontier > electronics pv-wind
        """,
    )
    # Cross-chain edges named in the reference.
    + [
        ("materials.electronic-chemicals", "ic.gases-chemicals"),
        ("materials.rare-earths", "nev.magnets"),
        ("materials.alloys", "nev.body-chassis"),
    ]
)


def chain_dicts() -> list[dict[str, Any]]:
    """Raw ``chain`` records."""
    return [
        {"id": c.id, "name": c.name, "name_en": c.name_en, "industry_codes": list(c.industry_codes)}
        for c in CHAINS
    ]


def segment_dicts() -> list[dict[str, Any]]:
    """Raw ``segment`` records; ``position`` counts from 0 within each chain's tier."""
    rows: list[dict[str, Any]] = []
    for chain in CHAINS:
        for tier in Tier:
            in_tier = [s for s in chain.segments if s.tier is tier]
            for position, s in enumerate(in_tier):
                rows.append(
                    {
                        "id": s.id,
                        "chain_id": chain.id,
                        "name": s.name,
                        "name_en": s.name_en,
                        "tier": tier.value,
                        "position": position,
                        "industry_codes": list(s.industry_codes),
                    }
                )
    return rows


def supply_dicts() -> list[dict[str, Any]]:
    """Raw ``supply`` edges."""
    return [{"from_segment": a, "to_segment": b} for a, b in SUPPLIES]


def product_id(segment: Segment, slug: str) -> str:
    return f"{segment.id}.{slug}"


def product_dicts() -> list[dict[str, Any]]:
    """Raw ``product`` records, a few real product names per segment."""
    return [
        {"id": product_id(s, slug), "name": name, "segment_id": s.id}
        for s in SEGMENTS
        for slug, name in s.products
    ]
