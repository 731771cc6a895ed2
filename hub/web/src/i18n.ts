// Chinese and English labels. Data names come from the API (name / nameEn).

export type Lang = "zh" | "en";
const LANG_STORAGE = "elh.lang";

const TEXT = {
  title: ["有效投资e本账", "E-Ledger Hub"],
  navWall: ["监测大屏", "Monitoring wall"],
  navChains: ["产业链图谱", "Chain map"],
  navProject: ["项目", "Project"],
  apiKey: ["API 密钥", "API key"],
  keyPlaceholder: ["elh_… (留空为匿名只读)", "elh_… (empty: anonymous, read-only)"],
  save: ["保存", "Save"],
  signOut: ["清除", "Clear"],
  anonymous: ["匿名", "anonymous"],
  keySet: ["已用密钥", "key in use"],
  role: ["角色", "role"],
  loading: ["加载中…", "Loading…"],
  retry: ["重试", "Retry"],
  keyRejected: ["密钥无效或已吊销", "The key is wrong or revoked"],
  needsKey: ["匿名访问不可用，请输入 API 密钥", "Anonymous access is off: enter an API key"],
  forbidden: ["当前角色无权查看", "Your role may not see this"],
  // chains
  chain: ["产业链", "Chain"],
  region: ["区域", "Region"],
  upstream: ["上游", "Upstream"],
  midstream: ["中游", "Midstream"],
  downstream: ["下游", "Downstream"],
  coverage: ["本地覆盖", "Local coverage"],
  covGap: ["空白 (0 家)", "Gap (none)"],
  covWeak: ["薄弱 (少于 {n} 家)", "Weak (under {n})"],
  covGood: ["较好 (≥ {n} 家)", "Covered (≥ {n})"],
  chokepoint: ["卡脖子环节", "Chokepoint"],
  chokepoints: ["卡脖子环节", "Chokepoints"],
  enterprises: ["企业", "Enterprises"],
  leaders: ["链主", "Leaders"],
  output: ["产值 (万元)", "Output (10k CNY)"],
  employment: ["就业", "Employment"],
  patents: ["专利", "Patents"],
  projects: ["项目", "Projects"],
  planned: ["计划投资 (万元)", "Planned (10k CNY)"],
  completedInv: ["完成投资 (万元)", "Completed (10k CNY)"],
  clickSegment: ["点击环节查看企业、项目与招商目标", "Click a segment for its enterprises, projects and targets"],
  localEnterprises: ["本地企业", "Local enterprises"],
  localProjects: ["本地项目", "Local projects"],
  targets: ["靶向招商目标企业", "Target enterprises"],
  noTargets: ["暂无目标企业", "No target enterprises"],
  none: ["无", "None"],
  score: ["得分", "Score"],
  rank: ["排名", "Rank"],
  why: ["原因", "Why"],
  ofTotal: ["共 {n} 个", "{n} in all"],
  // wall
  projectMap: ["项目分布与活跃状态", "Projects by activity"],
  ACTIVE: ["活跃", "Active"],
  LOW: ["低活跃", "Low"],
  IDLE: ["停工", "Idle"],
  NO_DATA: ["无数据", "No data"],
  QUIET: ["非施工期", "Not in construction"],
  liveFeed: ["实时数据流", "Live feed"],
  live: ["已连接", "live"],
  connecting: ["连接中", "connecting"],
  feedError: ["中断", "interrupted"],
  perMinute: ["条/分", "/min"],
  kindPower: ["电", "PWR"],
  kindLabor: ["工", "LAB"],
  kindCamera: ["视", "CAM"],
  kindSatellite: ["星", "SAT"],
  rollups: ["日汇总", "daily sums"],
  feedFilter: ["按传感器或项目筛选", "Filter by sensor or project"],
  PLANNING: ["谋划", "Planning"],
  PREPARATION: ["前期", "Preparation"],
  CONSTRUCTION: ["在建", "Construction"],
  COMPLETED: ["竣工", "Completed"],
  SUSPENDED: ["停缓建", "Suspended"],
  alerts: ["预警", "Alerts"],
  acknowledge: ["确认", "Acknowledge"],
  clear: ["解除", "Clear"],
  ackNeedsKey: ["确认/解除需要 monitor、operator 或 admin 密钥", "Acknowledge/clear needs a monitor, operator or admin key"],
  ACTIVE_UNACK: ["待确认", "Unacknowledged"],
  ACTIVE_ACK: ["已确认", "Acknowledged"],
  CLEARED_UNACK: ["已解除(未确认)", "Cleared, unacknowledged"],
  CLEARED_ACK: ["已解除", "Cleared"],
  CRITICAL: ["紧急", "Critical"],
  MAJOR: ["重要", "Major"],
  MINOR: ["次要", "Minor"],
  WARNING: ["提示", "Warning"],
  INDETERMINATE: ["未定", "Indeterminate"],
  FEED_STALE: ["数据中断", "Feed stale"],
  PROJECT_IDLE: ["项目停工", "Project idle"],
  VERIFICATION_MISMATCH: ["核验不符", "Verification mismatch"],
  CAMERA_HEALTH: ["摄像头异常", "Camera health"],
  SATELLITE_CHANGE: ["卫星变化", "Satellite change"],
  LAND_NODE_OVERDUE: ["用地节点逾期", "Land node overdue"],
  activeAlerts: ["{n} 条未解除", "{n} active"],
  mpi: ["重大项目推进指数 (MPI)", "Major Project Progress Index (MPI)"],
  mpiShort: ["MPI", "MPI"],
  resumption: ["复工率", "Resumption"],
  start: ["开工率", "Start"],
  completion: ["投资完成率", "Completion"],
  verification: ["大数据核验", "Verification"],
  warning: ["预警", "Rating"],
  GREEN: ["绿", "Green"],
  YELLOW: ["黄", "Yellow"],
  RED: ["红", "Red"],
  drillDown: ["未计入的项目", "Projects not counted"],
  period: ["期间", "Period"],
  close: ["关闭", "Close"],
  // project
  projectCode: ["项目代码", "Project code"],
  stage: ["阶段", "Stage"],
  owner: ["业主", "Owner"],
  totalInvestment: ["总投资 (万元)", "Total investment (10k CNY)"],
  annualPlan: ["年度计划 (万元)", "Annual plan (10k CNY)"],
  completedTotal: ["累计完成 (万元)", "Completed (10k CNY)"],
  evidence: ["现场证据 (同一时间轴)", "Site evidence (one time axis)"],
  activity: ["活跃状态", "Activity"],
  power: ["用电 (kWh/日)", "Power (kWh/day)"],
  headcount: ["在场人数", "Headcount"],
  camera: ["摄像头活跃度", "Camera activity"],
  satellite: ["卫星指数", "Satellite indices"],
  noSeries: ["该时段无数据", "No data in this window"],
  land: ["用地进度 (地项通)", "Land stages"],
  noLand: ["未跟踪用地进度", "Land not tracked"],
  done: ["已完成", "done"],
  overdue: ["逾期", "overdue"],
  gantt: ["进度计划 (甘特图)", "Schedule (Gantt)"],
  plannedBar: ["计划", "Planned"],
  actualBar: ["实际", "Actual"],
  noSchedule: ["未填报进度计划", "No schedule recorded"],
  curve: ["投资曲线 (累计, 万元)", "Investment curve (cumulative, 10k CNY)"],
  plannedCum: ["计划累计", "Planned"],
  actualCum: ["实际累计", "Actual"],
  financing: ["融资需求 (融项通)", "Financing"],
  noFinancing: ["无融资需求", "No financing need"],
  financingNeedsKey: ["融资详情需 operator 或 admin 密钥", "Financing details need an operator or admin key"],
  amount: ["金额 (万元)", "Amount (10k CNY)"],
  term: ["期限 (月)", "Term (months)"],
  matches: ["匹配银行", "Matched banks"],
  interest: ["意向", "Interest"],
  consent: ["同意", "Consent"],
  asOf: ["截至", "As of"],
  openProject: ["输入项目代码", "Project code"],
  go: ["打开", "Open"],
  notFound: ["未找到", "Not found"],
  lateTasks: ["{n} 项延误", "{n} late"],
  sensors: ["传感器", "Sensors"],
  lastReading: ["最新读数", "Latest reading"],
} satisfies Record<string, [string, string]>;

export type TextKey = keyof typeof TEXT;

let current: Lang = (localStorage.getItem(LANG_STORAGE) as Lang) === "en" ? "en" : "zh";

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem(LANG_STORAGE, l);
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

export function t(key: TextKey, vars: Record<string, string | number> = {}): string {
  let text = TEXT[key][current === "zh" ? 0 : 1];
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, String(v));
  return text;
}

/** Has a label for this enum value or key? */
export function tx(key: string): string {
  return key in TEXT ? t(key as TextKey) : key;
}

/** A data name in the current language: the English name when there is one. */
export function nm(name: string, nameEn?: string | null): string {
  return current === "en" && nameEn ? nameEn : name;
}
