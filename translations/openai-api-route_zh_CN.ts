<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>CliCommands</name>
    <message>
        <source>cannot read the upstreams: %1</source>
        <translation>无法读取上游:%1</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>NAME</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>ENDPOINT</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>SK</source>
        <translation>SK</translation>
    </message>
    <message>
        <source>ENABLED</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>WEIGHT</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>SUCCESS</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>FAILED</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>(no upstreams; add one with -add -sk KEY -endpoint URL)</source>
        <translation>(没有上游;用 -add -sk 密钥 -endpoint 地址 添加一个)</translation>
    </message>
    <message>
        <source>cannot store the client token in %1</source>
        <translation>无法把客户端令牌保存到 %1</translation>
    </message>
    <message>
        <source>cannot store the policy in %1</source>
        <translation>无法把策略保存到 %1</translation>
    </message>
    <message>
        <source>no upstream with ID %1</source>
        <translation>没有 ID 为 %1 的上游</translation>
    </message>
    <message>
        <source>OK: upstream %1 answered in %2 ms, %3 models</source>
        <translation>正常:上游 %1 在 %2 毫秒内响应,%3 个模型</translation>
    </message>
    <message>
        <source>FAILED: upstream %1: %2</source>
        <translation>失败:上游 %1:%2</translation>
    </message>
    <message>
        <source>FORMAT</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>MODELS</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>app token %1 (%2): shown only now; valid on /v1 only. Set limits in the Apps page or with PUT /admin/tokens/%1.</source>
        <translation>应用令牌 %1(%2):仅此一次显示;只能用于 /v1。可在“应用”页或用 PUT /admin/tokens/%1 设置限额。</translation>
    </message>
</context>
<context>
    <name>CommandLine</name>
    <message>
        <source>Add an upstream from -sk and -endpoint, print its ID and exit.</source>
        <translation>用 -sk 和 -endpoint 添加一个上游,打印其 ID 后退出。</translation>
    </message>
    <message>
        <source>Listen address: HOST:PORT, :PORT (all interfaces) or [::1]:PORT; port 0 picks a free one.</source>
        <translation>监听地址:主机:端口、:端口(所有网卡)或 [::1]:端口;端口 0 表示任选空闲端口。</translation>
    </message>
    <message>
        <source>address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>SQLite database file, created if missing, or postgresql://user:pass@host:port/db (default: db.sqlite in the app-data folder).</source>
        <translation>SQLite 数据库文件(不存在则创建),或 postgresql://用户:密码@主机:端口/库(默认:应用数据目录下的 db.sqlite)。</translation>
    </message>
    <message>
        <source>dsn</source>
        <translation>dsn</translation>
    </message>
    <message>
        <source>Upstream base URL for -add.</source>
        <translation>-add 使用的上游基地址。</translation>
    </message>
    <message>
        <source>url</source>
        <translation>url</translation>
    </message>
    <message>
        <source>List the upstreams (keys masked) and exit.</source>
        <translation>列出所有上游(密钥已遮盖)后退出。</translation>
    </message>
    <message>
        <source>Do not check the Authorization header of /v1 requests (the admin API still does).</source>
        <translation>不检查 /v1 请求的 Authorization 头(管理 API 仍然检查)。</translation>
    </message>
    <message>
        <source>Upstream API key for -add (sk-xxxxx).</source>
        <translation>-add 使用的上游 API 密钥(sk-xxxxx)。</translation>
    </message>
    <message>
        <source>key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>Run the proxy without window or tray icon.</source>
        <translation>不显示窗口和托盘图标,仅运行代理。</translation>
    </message>
    <message>
        <source>Set the client token(s), comma-separated, store them in the database and go on.</source>
        <translation>设置客户端令牌(逗号分隔),保存到数据库后继续运行。</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>Balancing policy, stored in the database: %1.</source>
        <translation>负载均衡策略,保存在数据库中:%1。</translation>
    </message>
    <message>
        <source>name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Test the key of upstream ID with GET {endpoint}/models (costs no tokens) and exit.</source>
        <translation>用 GET {endpoint}/models 测试 ID 对应上游的密钥(不消耗 token)后退出。</translation>
    </message>
    <message>
        <source>id</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Language of the interface: en or zh_CN (default: the system's).</source>
        <translation>界面语言:en 或 zh_CN(默认跟随系统)。</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Show this help and exit.</source>
        <translation>显示本帮助后退出。</translation>
    </message>
    <message>
        <source>Show the version and exit.</source>
        <translation>显示版本后退出。</translation>
    </message>
    <message>
        <source>
Every flag also works with two dashes (--addr). Exit status: 0 success, 1 runtime failure, 2 usage error.
</source>
        <translation>
所有参数也可用双横线(--addr)。退出码:0 成功,1 运行失败,2 用法错误。
</translation>
    </message>
    <message>
        <source>unknown policy '%1'; use one of: %2</source>
        <translation>未知策略 '%1';可选:%2</translation>
    </message>
    <message>
        <source>-test needs an upstream ID (see -list)</source>
        <translation>-test 需要一个上游 ID(见 -list)</translation>
    </message>
    <message>
        <source>-add and -list cannot be used together</source>
        <translation>-add 和 -list 不能同时使用</translation>
    </message>
    <message>
        <source>-add needs -sk KEY</source>
        <translation>-add 需要 -sk 密钥</translation>
    </message>
    <message>
        <source>-endpoint must be an http:// or https:// URL, got '%1'</source>
        <translation>-endpoint 必须是 http:// 或 https:// 开头的 URL,收到 '%1'</translation>
    </message>
    <message>
        <source>-auth needs at least one token</source>
        <translation>-auth 至少需要一个令牌</translation>
    </message>
    <message>
        <source>One local OpenAI-compatible base URL in front of all your API keys.</source>
        <translation>用一个本地 OpenAI 兼容地址统一代理你的所有 API 密钥。</translation>
    </message>
    <message>
        <source>unexpected argument '%1'</source>
        <translation>多余的参数 '%1'</translation>
    </message>
    <message>
        <source>API of the upstream for -add: openai (Chat Completions, Responses…) or anthropic (Messages).</source>
        <translation>-add 添加的上游所用的 API:openai(Chat Completions、Responses 等)或 anthropic(Messages)。</translation>
    </message>
    <message>
        <source>-format must be openai or anthropic, got '%1'</source>
        <translation>-format 必须是 openai 或 anthropic,而不是 '%1'</translation>
    </message>
    <message>
        <source>Make an app token called NAME (valid on /v1 only), print it once and exit.</source>
        <translation>创建名为 NAME 的应用令牌(只能用于 /v1),打印一次后退出。</translation>
    </message>
    <message>
        <source>-token-add needs a NAME for the app or person</source>
        <translation>-token-add 需要应用或使用者的名称(NAME)</translation>
    </message>
</context>
<context>
    <name>ConfigService</name>
    <message>
        <source>no upstream with ID %1</source>
        <translation>没有 ID 为 %1 的上游</translation>
    </message>
    <message>
        <source>an upstream with this SK and Endpoint exists already (ID %1)</source>
        <translation>已有相同密钥和地址的上游(ID %1)</translation>
    </message>
    <message>
        <source>the database said: %1</source>
        <translation>数据库报告:%1</translation>
    </message>
    <message>
        <source>SK must not be empty</source>
        <translation>API 密钥(SK)不能为空</translation>
    </message>
    <message>
        <source>Endpoint must not be empty</source>
        <translation>地址(Endpoint)不能为空</translation>
    </message>
    <message>
        <source>Endpoint must be an http:// or https:// URL, got '%1'</source>
        <translation>地址必须是 http:// 或 https:// URL,而不是 '%1'</translation>
    </message>
    <message>
        <source>Weight must be 0 or more</source>
        <translation>权重必须为 0 或更大</translation>
    </message>
    <message>
        <source>a timeout must be 0 (the default) or more</source>
        <translation>超时必须为 0(使用默认值)或更大</translation>
    </message>
    <message>
        <source>a timeout must be at least 1 second</source>
        <translation>超时至少为 1 秒</translation>
    </message>
    <message>
        <source>record limits must be 0 or more</source>
        <translation>记录限制必须为 0 或更大</translation>
    </message>
    <message>
        <source>WebhookURL must be an http:// or https:// URL, or empty to turn alerts off</source>
        <translation>Webhook 地址必须是 http:// 或 https:// URL,留空则关闭告警</translation>
    </message>
    <message>
        <source>WebhookFormat must be one of: generic, feishu, matrix</source>
        <translation>Webhook 格式必须是 generic、feishu 或 matrix 之一</translation>
    </message>
    <message>
        <source>cannot store the settings</source>
        <translation>无法保存设置</translation>
    </message>
    <message>
        <source>cannot store the client token</source>
        <translation>无法保存客户端令牌</translation>
    </message>
    <message>
        <source>AffinityTTL must be 0 (off) or more seconds</source>
        <translation>AffinityTTL 必须为 0(关闭)或更多秒</translation>
    </message>
    <message>
        <source>Proxy must be http://host:port or socks5://host:port (user:password@ allowed), or direct; got '%1'</source>
        <translation>Proxy must be http://host:port or socks5://host:port (user:password@ allowed), or direct; got '%1'</translation>
    </message>
    <message>
        <source>an app token needs a Name</source>
        <translation>an app token needs a Name</translation>
    </message>
    <message>
        <source>RPM, DailyTokenLimit and MonthlyBudgetUSD must be 0 or more</source>
        <translation>RPM, DailyTokenLimit and MonthlyBudgetUSD must be 0 or more</translation>
    </message>
    <message>
        <source>no app token with ID %1</source>
        <translation>no app token with ID %1</translation>
    </message>
    <message>
        <source>cannot store the prices</source>
        <translation>cannot store the prices</translation>
    </message>
    <message>
        <source>the system keychain: %1</source>
        <translation>系统钥匙串:%1</translation>
    </message>
    <message>
        <source>cannot read the settings</source>
        <translation>无法读取设置</translation>
    </message>
    <message>
        <source>cannot read the upstreams</source>
        <translation>无法读取上游</translation>
    </message>
</context>
<context>
    <name>KeyVault</name>
    <message>
        <source>the system keychain did not answer in %1 s</source>
        <translation>系统钥匙串在 %1 秒内没有响应</translation>
    </message>
    <message>
        <source>the system keychain is not available: %1</source>
        <translation>系统钥匙串不可用:%1</translation>
    </message>
    <message>
        <source>this build has no keychain support (build it with qtkeychain-qt6-dev installed)</source>
        <translation>此版本未包含钥匙串支持(安装 qtkeychain-qt6-dev 后重新构建)</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>%1 must be an integer ≥ %2</source>
        <translation>%1 must be an integer ≥ %2</translation>
    </message>
    <message>
        <source>%1 must be an array of strings</source>
        <translation>%1 must be an array of strings</translation>
    </message>
    <message>
        <source>%1 must be an array of strings without commas</source>
        <translation>%1 must be an array of strings without commas</translation>
    </message>
    <message>
        <source>%1 must be a string</source>
        <translation>%1 must be a string</translation>
    </message>
    <message>
        <source>Enabled must be true or false</source>
        <translation>Enabled must be true or false</translation>
    </message>
    <message>
        <source>Policy must be one of: %1</source>
        <translation>Policy must be one of: %1</translation>
    </message>
    <message>
        <source>RecordBodies must be true or false</source>
        <translation>RecordBodies must be true or false</translation>
    </message>
    <message>
        <source>invalid listen address '%1': expected HOST:PORT or :PORT</source>
        <translation>无效的监听地址 '%1':应为 主机:端口 或 :端口</translation>
    </message>
    <message>
        <source>invalid port in listen address '%1'</source>
        <translation>监听地址 '%1' 中的端口无效</translation>
    </message>
    <message>
        <source>invalid listen address '%1': write IPv6 addresses as [ADDR]:PORT</source>
        <translation>无效的监听地址 '%1':IPv6 地址请写成 [地址]:端口</translation>
    </message>
    <message>
        <source>invalid host in listen address '%1': use an IP address</source>
        <translation>监听地址 '%1' 中的主机无效:请使用 IP 地址</translation>
    </message>
    <message>
        <source>invalid PostgreSQL address: %1</source>
        <translation>无效的 PostgreSQL 地址:%1</translation>
    </message>
    <message>
        <source>empty database path</source>
        <translation>数据库路径为空</translation>
    </message>
    <message>
        <source>the PostgreSQL driver (QPSQL) is not installed</source>
        <translation>未安装 PostgreSQL 驱动(QPSQL)</translation>
    </message>
    <message>
        <source>cannot open database %1: %2</source>
        <translation>无法打开数据库 %1:%2</translation>
    </message>
    <message>
        <source>cannot create folder %1</source>
        <translation>无法创建目录 %1</translation>
    </message>
    <message>
        <source>the SQLite driver (QSQLITE) is not installed</source>
        <translation>未安装 SQLite 驱动(QSQLITE)</translation>
    </message>
    <message>
        <source>cannot read database %1: %2</source>
        <translation>无法读取数据库 %1:%2</translation>
    </message>
    <message>
        <source>database migration %1 failed: %2</source>
        <translation>数据库迁移 %1 失败:%2</translation>
    </message>
    <message>
        <source>an upstream with this SK and Endpoint exists already (ID %1)</source>
        <translation>已有相同密钥和地址的上游(ID %1)</translation>
    </message>
    <message>
        <source>no upstream with ID %1</source>
        <translation>没有 ID 为 %1 的上游</translation>
    </message>
    <message>
        <source>Format must be openai or anthropic</source>
        <translation>Format must be openai or anthropic</translation>
    </message>
    <message>
        <source>Responses must be true or false</source>
        <translation>Responses must be true or false</translation>
    </message>
    <message>
        <source>MetricsPublic must be true or false</source>
        <translation>MetricsPublic must be true or false</translation>
    </message>
    <message>
        <source>ModelMap must be an object of model names</source>
        <translation>ModelMap must be an object of model names</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Run 'openai-api-route -help' for the list of flags.</source>
        <translation>运行 openai-api-route -help 查看所有参数。</translation>
    </message>
    <message>
        <source>No display found; running headless (as with --no-gui).</source>
        <translation>没有找到显示器;以无界面模式运行(同 --no-gui)。</translation>
    </message>
    <message>
        <source>openai-api-route already runs with %1; showing its window.</source>
        <translation>openai-api-route 已在使用 %1 运行;正在显示它的窗口。</translation>
    </message>
    <message>
        <source>stopping: finishing requests in flight…</source>
        <translation>正在停止:等待进行中的请求完成…</translation>
    </message>
    <message>
        <source>database: %1</source>
        <translation>数据库:%1</translation>
    </message>
    <message>
        <source>listening on %1 — base URL %2</source>
        <translation>正在监听 %1 — 基地址 %2</translation>
    </message>
    <message>
        <source>client token (generated now, shown once; use it as the API key): %1</source>
        <translation>客户端令牌(刚刚生成,只显示这一次;把它当作 API 密钥使用):%1</translation>
    </message>
    <message>
        <source>authentication is off for /v1 (-noauth)</source>
        <translation>/v1 的身份验证已关闭(-noauth)</translation>
    </message>
</context>
<context>
    <name>route::AddUpstreamDialog</name>
    <message>
        <source>Test the key before saving</source>
        <translation>保存前测试密钥</translation>
    </message>
    <message>
        <source>Add upstream</source>
        <translation>添加上游</translation>
    </message>
    <message>
        <source>optional, e.g. work key</source>
        <translation>可选,例如:工作密钥</translation>
    </message>
    <message>
        <source>The base URL of an OpenAI-compatible API; the client's /v1 is replaced by its path</source>
        <translation>OpenAI 兼容 API 的基地址;客户端的 /v1 会被替换为它的路径</translation>
    </message>
    <message>
        <source>The API key of this upstream; it is stored in the local database and never shown to clients</source>
        <translation>此上游的 API 密钥;保存在本地数据库中,不会显示给客户端</translation>
    </message>
    <message>
        <source>Show the key</source>
        <translation>显示密钥</translation>
    </message>
    <message>
        <source>Asks GET {endpoint}/models with the key; this costs no tokens</source>
        <translation>用该密钥请求 GET {endpoint}/models;不消耗 token</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N):</translation>
    </message>
    <message>
        <source>&amp;Endpoint:</source>
        <translation>地址(&amp;E):</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API 密钥(&amp;K):</translation>
    </message>
    <message>
        <source>The endpoint must be an http:// or https:// URL, such as https://api.openai.com/v1.</source>
        <translation>地址必须是 http:// 或 https:// 开头的 URL,例如 https://api.openai.com/v1。</translation>
    </message>
    <message>
        <source>Enter the API key.</source>
        <translation>请输入 API 密钥。</translation>
    </message>
    <message>
        <source>Testing the key…</source>
        <translation>正在测试密钥…</translation>
    </message>
    <message>
        <source>The key works (%1 ms, %2 models).</source>
        <translation>密钥可用(%1 毫秒,%2 个模型)。</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message>
        <source>The test failed: %1</source>
        <translation>测试失败:%1</translation>
    </message>
    <message>
        <source>Key test failed</source>
        <translation>密钥测试失败</translation>
    </message>
    <message>
        <source>The upstream answered: %1

Save it anyway?</source>
        <translation>上游返回:%1

仍然保存吗?</translation>
    </message>
    <message>
        <source>OpenAI-compatible (Chat Completions, Responses)</source>
        <translation>OpenAI 兼容(Chat Completions、Responses)</translation>
    </message>
    <message>
        <source>Anthropic (Messages, for Claude Code)</source>
        <translation>Anthropic(Messages,供 Claude Code 使用)</translation>
    </message>
    <message>
        <source>The API this upstream speaks; requests go to the upstreams of their own API</source>
        <translation>此上游使用的 API;请求只会发往使用相同 API 的上游</translation>
    </message>
    <message>
        <source>&amp;API:</source>
        <translation>API(&amp;A):</translation>
    </message>
    <message>
        <source>empty = the system's HTTPS_PROXY / ALL_PROXY, if set</source>
        <translation>留空 = 使用系统的 HTTPS_PROXY / ALL_PROXY(如已设置)</translation>
    </message>
    <message>
        <source>Reach this upstream through a proxy: http://host:port or socks5://host:port, with user:password@ if it needs them; direct = never a proxy</source>
        <translation>通过代理访问此上游:http://主机:端口 或 socks5://主机:端口,需要认证时加 用户名:密码@;direct = 从不使用代理</translation>
    </message>
    <message>
        <source>&amp;Proxy:</source>
        <translation>代理(&amp;P):</translation>
    </message>
    <message>
        <source>The proxy must be http://host:port or socks5://host:port, or empty.</source>
        <translation>代理必须是 http://主机:端口 或 socks5://主机:端口,或留空。</translation>
    </message>
</context>
<context>
    <name>route::AdminApi</name>
    <message>
        <source>the database is not reachable: %1</source>
        <translation>无法连接数据库:%1</translation>
    </message>
</context>
<context>
    <name>route::AppController</name>
    <message>
        <source>No system tray</source>
        <translation>没有系统托盘</translation>
    </message>
    <message>
        <source>This desktop has no system tray, so openai-api-route shows its window instead. Closing the window quits the proxy.</source>
        <translation>当前桌面没有系统托盘,因此 openai-api-route 改为显示窗口。关闭窗口将退出代理。</translation>
    </message>
</context>
<context>
    <name>route::AppTokenDialog</name>
    <message>
        <source>Expires on</source>
        <translation>到期时间</translation>
    </message>
    <message>
        <source>Enabled</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>App token %1</source>
        <translation>应用令牌 %1</translation>
    </message>
    <message>
        <source>New app token</source>
        <translation>新建应用令牌</translation>
    </message>
    <message>
        <source>the app or person, e.g. claude-code or alice</source>
        <translation>应用或使用者,例如 claude-code 或 alice</translation>
    </message>
    <message>
        <source>empty = every model; e.g. gpt-4o-mini*, deepseek-*</source>
        <translation>留空 = 所有模型;例如 gpt-4o-mini*, deepseek-*</translation>
    </message>
    <message>
        <source>no limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source> per minute</source>
        <translation> 次/分钟</translation>
    </message>
    <message>
        <source> thousand</source>
        <translation> 千</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N):</translation>
    </message>
    <message>
        <source>&amp;Models:</source>
        <translation>模型(&amp;M):</translation>
    </message>
    <message>
        <source>&amp;Requests:</source>
        <translation>请求数(&amp;R):</translation>
    </message>
    <message>
        <source>&amp;Tokens per day (UTC):</source>
        <translation>每日 token(UTC)(&amp;T):</translation>
    </message>
    <message>
        <source>&amp;Budget per month (UTC):</source>
        <translation>每月预算(UTC)(&amp;B):</translation>
    </message>
</context>
<context>
    <name>route::AppsPage</name>
    <message>
        <source>models %1</source>
        <translation>模型 %1</translation>
    </message>
    <message>
        <source>%1/min</source>
        <translation>%1/min</translation>
    </message>
    <message>
        <source>%L1 tokens/day</source>
        <translation>%L1 token/天</translation>
    </message>
    <message>
        <source>$%1/month</source>
        <translation>$%1/month</translation>
    </message>
    <message>
        <source>until %1</source>
        <translation>至 %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>&amp;Add token…</source>
        <translation>添加令牌(&amp;A)…</translation>
    </message>
    <message>
        <source>A token for one app or person, with its own limits</source>
        <translation>给一个应用或使用者的令牌,带独立限额</translation>
    </message>
    <message>
        <source>&amp;Limits…</source>
        <translation>限额(&amp;L)…</translation>
    </message>
    <message>
        <source>Models, requests per minute, tokens per day, budget, expiry</source>
        <translation>模型、每分钟请求数、每日 token、预算、到期时间</translation>
    </message>
    <message>
        <source>Enable/&amp;disable</source>
        <translation>启用/停用(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>删除(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Connect an app…</source>
        <translation>连接应用(&amp;C)…</translation>
    </message>
    <message>
        <source>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</source>
        <translation>可复制给 Claude Code、Codex、OpenAI SDK 及其他应用的设置</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>On</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>限额</translation>
    </message>
    <message>
        <source>Tokens today</source>
        <translation>今日 token</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <source>Last used</source>
        <translation>最近使用</translation>
    </message>
    <message>
        <source>App</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Token 数</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>费用</translation>
    </message>
    <message>
        <source>Apps seen this month (UTC): the program behind each request, or its User-Agent</source>
        <translation>本月(UTC)出现的应用:发出请求的程序,或其 User-Agent</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>(未知)</translation>
    </message>
    <message>
        <source>Added app token %1 for %2.</source>
        <translation>已为 %2 添加应用令牌 %1。</translation>
    </message>
    <message>
        <source>Delete app token</source>
        <translation>删除应用令牌</translation>
    </message>
    <message>
        <source>Delete app token %1? Apps that use it are refused from now on.</source>
        <translation>删除应用令牌 %1?使用它的应用将从此被拒绝。</translation>
    </message>
</context>
<context>
    <name>route::ConfigService</name>
    <message>
        <source>HTTP %1</source>
        <translation>HTTP %1</translation>
    </message>
</context>
<context>
    <name>route::ConnectDialog</name>
    <message>
        <source>Connect an app</source>
        <translation>连接应用</translation>
    </message>
    <message>
        <source>The new token, shown only now (only its hash is kept): copy it before you close this window.</source>
        <translation>新令牌仅此一次显示(只保存其哈希):关闭窗口前请复制。</translation>
    </message>
    <message>
        <source>Copy the token</source>
        <translation>复制令牌</translation>
    </message>
    <message>
        <source>Claude Code</source>
        <translation>Claude Code</translation>
    </message>
    <message>
        <source>In the shell that starts claude, or in ~/.claude/settings.json under "env":</source>
        <translation>在启动 claude 的 shell 中,或写入 ~/.claude/settings.json 的 "env":</translation>
    </message>
    <message>
        <source>Codex CLI</source>
        <translation>Codex CLI</translation>
    </message>
    <message>
        <source>In ~/.codex/config.toml; then export ROUTE_TOKEN=%1 in the shell that starts codex:</source>
        <translation>写入 ~/.codex/config.toml;再在启动 codex 的 shell 中 export ROUTE_TOKEN=%1:</translation>
    </message>
    <message>
        <source>OpenAI SDKs</source>
        <translation>OpenAI SDK</translation>
    </message>
    <message>
        <source>The official SDKs (Python, Node) read these variables:</source>
        <translation>官方 SDK(Python、Node)读取这些变量:</translation>
    </message>
    <message>
        <source>Any app</source>
        <translation>任意应用</translation>
    </message>
    <message>
        <source>In the app's settings for an OpenAI-compatible provider:</source>
        <translation>在应用的 OpenAI 兼容服务商设置中:</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the settings of this tab</source>
        <translation>复制此页的设置</translation>
    </message>
    <message>
        <source>Base URL (API host): %1
API key: %2
Models: the app's model list is this proxy's list of every upstream's models
</source>
        <translation>基地址(API 主机):%1
API 密钥:%2
模型:应用的模型列表就是本代理汇总的所有上游模型
</translation>
    </message>
</context>
<context>
    <name>route::Engine</name>
    <message>
        <source>cannot store the client token in %1</source>
        <translation>无法把客户端令牌保存到 %1</translation>
    </message>
    <message>
        <source>cannot read the upstreams from %1: %2</source>
        <translation>无法从 %1 读取上游:%2</translation>
    </message>
    <message>
        <source>cannot open database %1 for records</source>
        <translation>无法打开用于记录的数据库 %1</translation>
    </message>
    <message>
        <source>cannot listen on %1: %2</source>
        <translation>无法监听 %1:%2</translation>
    </message>
    <message>
        <source>the proxy is not running</source>
        <translation>代理未在运行</translation>
    </message>
    <message>
        <source>Listening on %1 with authentication off (-noauth): anyone who can reach this machine can spend your API keys through it. Use -addr 127.0.0.1:PORT, or drop -noauth.</source>
        <translation>正在监听 %1 且已关闭认证(-noauth):任何能访问这台机器的人都可以通过它花费你的 API 密钥。请使用 -addr 127.0.0.1:端口,或去掉 -noauth。</translation>
    </message>
    <message>
        <source>Listening on %1: reachable from the network, not only from this machine; clients need the token.</source>
        <translation>正在监听 %1:不仅本机,网络上的其他机器也能访问;客户端需要令牌。</translation>
    </message>
</context>
<context>
    <name>route::HealthTracker</name>
    <message>
        <source>every upstream answered 429: the proxy's IP or account is throttled</source>
        <translation>所有上游都返回 429:代理的 IP 或账号被限流</translation>
    </message>
    <message>
        <source>no requests or tokens left until the reset</source>
        <translation>在重置之前已没有剩余请求数或 token</translation>
    </message>
</context>
<context>
    <name>route::HttpListener</name>
    <message>
        <source>address already in use</source>
        <translation>地址已被占用</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>权限不足</translation>
    </message>
</context>
<context>
    <name>route::ManagerWindow</name>
    <message>
        <source>openai-api-route</source>
        <translation>openai-api-route</translation>
    </message>
    <message>
        <source>&amp;Upstreams</source>
        <translation>上游(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Requests</source>
        <translation>请求(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>serving</source>
        <translation>服务中</translation>
    </message>
    <message>
        <source>%1 on %2 · %3 of %4 upstreams healthy · %5 requests in the last minute</source>
        <translation>%1,地址 %2 · %4 个上游中 %3 个健康 · 最近一分钟 %5 个请求</translation>
    </message>
    <message>
        <source>&amp;Apps</source>
        <translation>应用(&amp;A)</translation>
    </message>
    <message>
        <source>Usa&amp;ge</source>
        <translation>用量(&amp;G)</translation>
    </message>
</context>
<context>
    <name>route::ModelsDialog</name>
    <message>
        <source>&amp;Fetch now</source>
        <translation>立即获取(&amp;F)</translation>
    </message>
    <message>
        <source>Models of upstream %1</source>
        <translation>上游 %1 的模型</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>筛选</translation>
    </message>
    <message>
        <source>The models this upstream listed; double-click to add one to "Only models"</source>
        <translation>此上游列出的模型;双击可加入"仅限模型"</translation>
    </message>
    <message>
        <source>Allow &amp;selected</source>
        <translation>允许所选(&amp;S)</translation>
    </message>
    <message>
        <source>Add the selected models to "Only models"</source>
        <translation>把所选模型加入"仅限模型"</translation>
    </message>
    <message>
        <source>empty = every model</source>
        <translation>留空 = 所有模型</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key may serve; a trailing * matches any suffix</source>
        <translation>此密钥可服务的模型(或 /v1/ 路径),逗号分隔;末尾的 * 匹配任意后缀</translation>
    </message>
    <message>
        <source>Client asks for</source>
        <translation>客户端请求</translation>
    </message>
    <message>
        <source>Sent as</source>
        <translation>发送为</translation>
    </message>
    <message>
        <source>gpt-4o → openai/gpt-4o, or a glob: gpt-* → openai/gpt-* sends gpt-4.1 as openai/gpt-4.1. An exact name wins over a glob, a longer glob over a shorter one.</source>
        <translation>gpt-4o → openai/gpt-4o,或通配:gpt-* → openai/gpt-* 会把 gpt-4.1 发送为 openai/gpt-4.1。精确名称优先于通配,较长的通配优先于较短的。</translation>
    </message>
    <message>
        <source>&amp;Add alias</source>
        <translation>添加别名(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Remove alias</source>
        <translation>删除别名(&amp;R)</translation>
    </message>
    <message>
        <source>Only &amp;models:</source>
        <translation>仅限模型(&amp;M):</translation>
    </message>
    <message>
        <source>Aliases:</source>
        <translation>别名:</translation>
    </message>
    <message>
        <source>Upstream %1 no longer exists.</source>
        <translation>上游 %1 已不存在。</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), fetched %1.</source>
        <translation><numerusform>%n 个模型,获取于 %1。</numerusform></translation>
    </message>
    <message>
        <source>The model list was not fetched yet.</source>
        <translation>尚未获取模型列表。</translation>
    </message>
    <message>
        <source>The last fetch failed: %1</source>
        <translation>上次获取失败:%1</translation>
    </message>
    <message>
        <source>Fetching the model list…</source>
        <translation>正在获取模型列表…</translation>
    </message>
    <message>
        <source>The aliases cannot be saved: every row needs both names, and '*' may only end a name (and its target only when the name ends in it).</source>
        <translation>无法保存别名:每一行都需要两个名称,'*' 只能出现在名称末尾(目标名称仅在原名称以它结尾时才可以)。</translation>
    </message>
</context>
<context>
    <name>route::ProxyExchange</name>
    <message>
        <source>no upstream is configured; add one with -add or the admin API</source>
        <translation>no upstream is configured; add one with -add or the admin API</translation>
    </message>
    <message>
        <source>no enabled upstream is allowed to serve model '%1'</source>
        <translation>no enabled upstream is allowed to serve model '%1'</translation>
    </message>
    <message>
        <source>no enabled upstream is available</source>
        <translation>no enabled upstream is available</translation>
    </message>
    <message>
        <source>all upstreams failed</source>
        <translation>all upstreams failed</translation>
    </message>
    <message>
        <source>all upstreams failed; last error: %1</source>
        <translation>all upstreams failed; last error: %1</translation>
    </message>
    <message>
        <source>invalid endpoint %1</source>
        <translation>无效的地址 %1</translation>
    </message>
    <message>
        <source>no response headers within %1 s</source>
        <translation>%1 秒内没有收到响应头</translation>
    </message>
    <message>
        <source>stream stalled</source>
        <translation>流已停滞</translation>
    </message>
    <message>
        <source>upstream sent nothing for %1 s</source>
        <translation>上游 %1 秒内没有发送任何数据</translation>
    </message>
    <message>
        <source>client closed the connection</source>
        <translation>客户端关闭了连接</translation>
    </message>
    <message>
        <source>the stream ended before its terminal event</source>
        <translation>the stream ended before its terminal event</translation>
    </message>
    <message>
        <source>no enabled upstream can serve /v1/messages; add an anthropic one (-format anthropic) or an OpenAI-compatible one, which gets the request converted</source>
        <translation>no enabled upstream can serve /v1/messages; add an anthropic one (-format anthropic) or an OpenAI-compatible one, which gets the request converted</translation>
    </message>
    <message>
        <source>the app token %1 may not use model '%2'</source>
        <translation>the app token %1 may not use model '%2'</translation>
    </message>
    <message>
        <source>the app token %1 is limited to %2 requests per minute; retry in %3 s</source>
        <translation>the app token %1 is limited to %2 requests per minute; retry in %3 s</translation>
    </message>
    <message>
        <source>the app token %1 has used its %2 tokens for today (UTC)</source>
        <translation>the app token %1 has used its %2 tokens for today (UTC)</translation>
    </message>
    <message>
        <source>the app token %1 has spent its budget of $%2 for this month (UTC)</source>
        <translation>the app token %1 has spent its budget of $%2 for this month (UTC)</translation>
    </message>
</context>
<context>
    <name>route::ProxyHandler</name>
    <message>
        <source>The model '%1' does not exist or no enabled upstream lists it</source>
        <translation>The model '%1' does not exist or no enabled upstream lists it</translation>
    </message>
    <message>
        <source>no upstream is configured; add one with -add or the admin API</source>
        <translation>no upstream is configured; add one with -add or the admin API</translation>
    </message>
    <message>
        <source>no enabled upstream is available</source>
        <translation>no enabled upstream is available</translation>
    </message>
</context>
<context>
    <name>route::RequestLogModel</name>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>Attempts (upstream:result): %1</source>
        <translation>尝试记录(上游:结果):%1</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Upstream</source>
        <translation>上游</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>First byte</source>
        <translation>首字节</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>耗时</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Token 数</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>input %1 (cached %2, written to the cache %3) · output %4 (reasoning %5)</source>
        <translation>输入 %1(缓存读取 %2,写入缓存 %3)· 输出 %4(推理 %5)</translation>
    </message>
    <message>
        <source>Asked for %1; upstream %2 was sent %3 (an alias)</source>
        <translation>请求的是 %1;发给上游 %2 的是 %3(别名)</translation>
    </message>
</context>
<context>
    <name>route::RequestRouter</name>
    <message>
        <source>not found: %1; the API is under /v1/</source>
        <translation>not found: %1; the API is under /v1/</translation>
    </message>
    <message>
        <source>cross-origin requests are refused while authentication is off (-noauth)</source>
        <translation>cross-origin requests are refused while authentication is off (-noauth)</translation>
    </message>
    <message>
        <source>the proxy is paused; resume it from the tray menu</source>
        <translation>the proxy is paused; resume it from the tray menu</translation>
    </message>
    <message>
        <source>the Host %1 is not a name of this machine; add it to AllowedHosts to serve it</source>
        <translation>the Host %1 is not a name of this machine; add it to AllowedHosts to serve it</translation>
    </message>
    <message>
        <source>the admin API refuses requests from the web page at %1; add it to AllowedOrigins to allow it</source>
        <translation>the admin API refuses requests from the web page at %1; add it to AllowedOrigins to allow it</translation>
    </message>
    <message>
        <source>this app token (%1) is disabled</source>
        <translation>this app token (%1) is disabled</translation>
    </message>
    <message>
        <source>this app token (%1) expired at %2</source>
        <translation>this app token (%1) expired at %2</translation>
    </message>
    <message>
        <source>/metrics needs the client token (app tokens do not count); set MetricsPublic to serve it to anyone</source>
        <translation>/metrics 需要客户端令牌(应用令牌不算);设置 MetricsPublic 可对所有人开放</translation>
    </message>
</context>
<context>
    <name>route::RequestsPage</name>
    <message>
        <source>Filter: model, path, status, upstream, error…</source>
        <translation>筛选:模型、路径、状态、上游、错误…</translation>
    </message>
    <message>
        <source>Shows only the requests that contain this text in any column</source>
        <translation>只显示任一列包含此文本的请求</translation>
    </message>
    <message>
        <source>No requests yet. Point a client at the proxy:&lt;br&gt;&lt;code&gt;export OPENAI_BASE_URL=%1&lt;br&gt;export OPENAI_API_KEY=&amp;lt;the token from the Settings tab&amp;gt;&lt;/code&gt;</source>
        <translation>还没有请求。把客户端指向本代理:&lt;br&gt;&lt;code&gt;export OPENAI_BASE_URL=%1&lt;br&gt;export OPENAI_API_KEY=&amp;lt;“设置”页中的令牌&amp;gt;&lt;/code&gt;</translation>
    </message>
</context>
<context>
    <name>route::SettingsPage</name>
    <message>
        <source>Record request and response bodies</source>
        <translation>记录请求和响应内容</translation>
    </message>
    <message>
        <source>Start at login</source>
        <translation>登录时启动</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>应用(&amp;A)</translation>
    </message>
    <message>
        <source>Move the proxy to this address; requests in flight finish on the old one</source>
        <translation>把代理移到此地址;进行中的请求在旧地址上完成</translation>
    </message>
    <message>
        <source>HOST:PORT, :PORT for all interfaces, or [::1]:PORT</source>
        <translation>主机:端口、:端口(所有网卡)或 [::1]:端口</translation>
    </message>
    <message>
        <source>Clients use this as their API key</source>
        <translation>客户端把它当作 API 密钥使用</translation>
    </message>
    <message>
        <source>Show the token</source>
        <translation>显示令牌</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the token to the clipboard</source>
        <translation>把令牌复制到剪贴板</translation>
    </message>
    <message>
        <source>&amp;Regenerate…</source>
        <translation>重新生成(&amp;R)…</translation>
    </message>
    <message>
        <source>Make a new random token; clients with the old one are refused</source>
        <translation>生成新的随机令牌;使用旧令牌的客户端将被拒绝</translation>
    </message>
    <message>
        <source>In order (first healthy key)</source>
        <translation>按顺序(第一个健康的密钥)</translation>
    </message>
    <message>
        <source>Round robin</source>
        <translation>轮询</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Weighted</source>
        <translation>按权重</translation>
    </message>
    <message>
        <source>Fewest requests in flight</source>
        <translation>进行中请求最少</translation>
    </message>
    <message>
        <source>Lowest latency</source>
        <translation>延迟最低</translation>
    </message>
    <message>
        <source>How the proxy picks the key for each request</source>
        <translation>代理为每个请求选择密钥的方式</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>How long to wait for an upstream's response headers before trying the next one</source>
        <translation>等待上游响应头的时长,超时后尝试下一个上游</translation>
    </message>
    <message>
        <source>The same for streamed requests ("stream": true)</source>
        <translation>流式请求("stream": true)的同类超时</translation>
    </message>
    <message>
        <source>How long a response may stay silent before it is ended as failed</source>
        <translation>响应在多长时间没有数据后被判定失败并结束</translation>
    </message>
    <message>
        <source>Keep the first 64 KiB of each request and answer in the records (off by default)</source>
        <translation>在记录中保存每个请求和回答的前 64 KiB(默认关闭)</translation>
    </message>
    <message>
        <source>Start openai-api-route when you log in</source>
        <translation>登录时启动 openai-api-route</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Applies at the next start</source>
        <translation>下次启动时生效</translation>
    </message>
    <message>
        <source>Listen &amp;address:</source>
        <translation>监听地址(&amp;A):</translation>
    </message>
    <message>
        <source>Client &amp;token:</source>
        <translation>客户端令牌(&amp;T):</translation>
    </message>
    <message>
        <source>&amp;Policy:</source>
        <translation>策略(&amp;P):</translation>
    </message>
    <message>
        <source>Response &amp;timeout:</source>
        <translation>响应超时(&amp;T):</translation>
    </message>
    <message>
        <source>&amp;Stream timeout:</source>
        <translation>流式超时(&amp;S):</translation>
    </message>
    <message>
        <source>&amp;Idle timeout:</source>
        <translation>空闲超时(&amp;I):</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L):</translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation>无法写入 %1。</translation>
    </message>
    <message>
        <source>Listening on %1</source>
        <translation>正在监听 %1</translation>
    </message>
    <message>
        <source>Regenerate token</source>
        <translation>重新生成令牌</translation>
    </message>
    <message>
        <source>Make a new token? Every client that uses the current one is refused until you give it the new one.</source>
        <translation>生成新令牌吗?使用当前令牌的客户端在换成新令牌前都会被拒绝。</translation>
    </message>
    <message>
        <source>The new token could not be stored.</source>
        <translation>无法保存新令牌。</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>The settings were not saved: %1</source>
        <translation>设置未保存:%1</translation>
    </message>
    <message>
        <source>Serve /metrics without the token</source>
        <translation>无需令牌即可访问 /metrics</translation>
    </message>
    <message>
        <source>e.g. proxy.lan, my-laptop.local</source>
        <translation>例如 proxy.lan, my-laptop.local</translation>
    </message>
    <message>
        <source>Host names, comma-separated, that clients may use for this proxy besides localhost and 127.0.0.1; any other is refused, so a web page cannot reach it by DNS rebinding</source>
        <translation>除 localhost 和 127.0.0.1 之外,客户端可用来访问本代理的主机名(逗号分隔);其他名称一律拒绝,网页无法通过 DNS 重绑定访问它</translation>
    </message>
    <message>
        <source>e.g. https://tool.example</source>
        <translation>例如 https://tool.example</translation>
    </message>
    <message>
        <source>Web page origins, comma-separated, that may use the admin API from a browser besides pages on localhost</source>
        <translation>除 localhost 上的页面之外,允许在浏览器中使用管理 API 的网页来源(逗号分隔)</translation>
    </message>
    <message>
        <source>Allowed &amp;hosts:</source>
        <translation>允许的主机(&amp;H):</translation>
    </message>
    <message>
        <source>Allowed &amp;origins:</source>
        <translation>允许的来源(&amp;O):</translation>
    </message>
    <message>
        <source>Move keys to the &amp;keychain</source>
        <translation>把密钥移入钥匙串(&amp;K)</translation>
    </message>
    <message>
        <source>Move keys back to the &amp;database</source>
        <translation>把密钥移回数据库(&amp;D)</translation>
    </message>
    <message>
        <source>Keep every API key in the system keychain (Secret Service: GNOME Keyring, KWallet, KeePassXC); the database then holds only a reference, and keys added later go there too</source>
        <translation>把所有 API 密钥保存在系统钥匙串中(Secret Service:GNOME 钥匙环、KWallet、KeePassXC);数据库中只保留引用,之后添加的密钥也存入钥匙串</translation>
    </message>
    <message>
        <source>Put every key back into the database, where the headless mode and hand edits of the table expect it</source>
        <translation>把所有密钥放回数据库,无界面模式和直接编辑数据表都需要它们在那里</translation>
    </message>
    <message numerus="yes">
        <source>Keys are kept in the database (%n key(s)).</source>
        <translation><numerusform>密钥保存在数据库中(%n 个)。</numerusform></translation>
    </message>
    <message>
        <source>Asking the system keychain…</source>
        <translation>正在询问系统钥匙串…</translation>
    </message>
    <message>
        <source>Keys in the keychain</source>
        <translation>钥匙串中的密钥</translation>
    </message>
    <message>
        <source>Move every API key into the system keychain? The database keeps only a reference; the headless mode and other machines cannot read the keys from there.</source>
        <translation>把所有 API 密钥移入系统钥匙串吗?数据库中只保留引用;无界面模式和其他机器无法从那里读取密钥。</translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved; then: %1</source>
        <translation><numerusform>已移动 %n 个密钥;随后:%1</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved into the system keychain.</source>
        <translation><numerusform>已把 %n 个密钥移入系统钥匙串。</numerusform></translation>
    </message>
    <message>
        <source>Keys in the database</source>
        <translation>数据库中的密钥</translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved back into the database.</source>
        <translation><numerusform>已把 %n 个密钥移回数据库。</numerusform></translation>
    </message>
    <message>
        <source>For a Prometheus scraper without the token; the figures give upstream IDs and model names, never keys</source>
        <translation>供没有令牌的 Prometheus 抓取器使用;数据中只有上游 ID 和模型名,绝不包含密钥</translation>
    </message>
    <message>
        <source>API keys:</source>
        <translation>API 密钥:</translation>
    </message>
    <message numerus="yes">
        <source>In the system keychain: %1 of %n key(s).</source>
        <translation><numerusform>系统钥匙串中:%1 / %n 个密钥。</numerusform></translation>
    </message>
</context>
<context>
    <name>route::TcpStream</name>
    <message>
        <source>the remote host closed the connection</source>
        <translation>远程主机关闭了连接</translation>
    </message>
</context>
<context>
    <name>route::TrayController</name>
    <message>
        <source>&amp;Open manager</source>
        <translation>打开管理器(&amp;O)</translation>
    </message>
    <message>
        <source>Upstreams, requests and settings</source>
        <translation>上游、请求和设置</translation>
    </message>
    <message>
        <source>Copy &amp;base URL</source>
        <translation>复制基地址(&amp;B)</translation>
    </message>
    <message>
        <source>Paste it into your client's "base URL" or "API host" setting</source>
        <translation>粘贴到客户端的“基地址”或“API 主机”设置中</translation>
    </message>
    <message>
        <source>Copy &amp;token</source>
        <translation>复制令牌(&amp;T)</translation>
    </message>
    <message>
        <source>Paste it into your client's "API key" setting</source>
        <translation>粘贴到客户端的“API 密钥”设置中</translation>
    </message>
    <message>
        <source>Copy &amp;environment snippet</source>
        <translation>复制环境变量片段(&amp;E)</translation>
    </message>
    <message>
        <source>OPENAI_BASE_URL and OPENAI_API_KEY for a shell</source>
        <translation>用于终端的 OPENAI_BASE_URL 和 OPENAI_API_KEY</translation>
    </message>
    <message>
        <source>&amp;Pause proxy</source>
        <translation>暂停代理(&amp;P)</translation>
    </message>
    <message>
        <source>While paused, clients get an error and no key is used</source>
        <translation>暂停期间客户端会收到错误,不使用任何密钥</translation>
    </message>
    <message>
        <source>Start at &amp;login</source>
        <translation>登录时启动(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>serving</source>
        <translation>服务中</translation>
    </message>
    <message>
        <source>some upstreams are down</source>
        <translation>部分上游不可用</translation>
    </message>
    <message>
        <source>all upstreams are down</source>
        <translation>所有上游都不可用</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>All upstreams are down</source>
        <translation>所有上游都不可用</translation>
    </message>
    <message>
        <source>No key is answering; requests fail until one recovers.</source>
        <translation>没有密钥可用;在恢复之前请求都会失败。</translation>
    </message>
    <message>
        <source>Upstream %1 is back</source>
        <translation>上游 %1 已恢复</translation>
    </message>
    <message>
        <source>It answers again.</source>
        <translation>它又能正常响应了。</translation>
    </message>
    <message>
        <source>Key of upstream %1 rejected</source>
        <translation>上游 %1 的密钥被拒绝</translation>
    </message>
    <message>
        <source>The upstream refused the key (%1). Check or replace it in the manager.</source>
        <translation>上游拒绝了该密钥(%1)。请在管理器中检查或更换。</translation>
    </message>
    <message>
        <source>Upstream %1 is down</source>
        <translation>上游 %1 不可用</translation>
    </message>
    <message>
        <source>It failed several times (%1); other keys take its requests.</source>
        <translation>它连续失败多次(%1);其他密钥会接管它的请求。</translation>
    </message>
    <message>
        <source>&amp;Connect an app…</source>
        <translation>连接应用(&amp;C)…</translation>
    </message>
    <message>
        <source>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</source>
        <translation>可复制给 Claude Code、Codex、OpenAI SDK 及其他应用的设置</translation>
    </message>
    <message>
        <source>openai-api-route — %1
%2
%3 requests in the last minute · $%4 today (UTC)</source>
        <translation>openai-api-route — %1
%2
最近一分钟 %3 个请求 · 今日(UTC)$%4</translation>
    </message>
    <message>
        <source>%1 reached a limit</source>
        <translation>%1 已达到限额</translation>
    </message>
</context>
<context>
    <name>route::UpstreamCall</name>
    <message>
        <source>the upstream's response headers are too large</source>
        <translation>上游的响应头过大</translation>
    </message>
    <message>
        <source>the upstream did not answer with HTTP/1.x</source>
        <translation>上游没有用 HTTP/1.x 响应</translation>
    </message>
    <message>
        <source>the upstream's response is ambiguous or malformed (%1)</source>
        <translation>上游的响应有歧义或格式错误(%1)</translation>
    </message>
    <message>
        <source>the upstream sent a malformed chunk</source>
        <translation>上游发送了格式错误的分块</translation>
    </message>
    <message>
        <source>the upstream closed the connection mid-response</source>
        <translation>上游在响应中途关闭了连接</translation>
    </message>
    <message>
        <source>the upstream closed the connection without an answer</source>
        <translation>上游没有响应就关闭了连接</translation>
    </message>
</context>
<context>
    <name>route::UpstreamProbe</name>
    <message>
        <source>no answer within %1 s</source>
        <translation>%1 秒内没有响应</translation>
    </message>
    <message>
        <source>invalid endpoint %1</source>
        <translation>无效的地址 %1</translation>
    </message>
    <message>
        <source>HTTP %1</source>
        <translation>HTTP %1</translation>
    </message>
</context>
<context>
    <name>route::UpstreamTableModel</name>
    <message>
        <source>healthy</source>
        <translation>健康</translation>
    </message>
    <message>
        <source>rate limited</source>
        <translation>限流中</translation>
    </message>
    <message>
        <source>key rejected</source>
        <translation>密钥被拒</translation>
    </message>
    <message>
        <source>resting</source>
        <translation>冷却中</translation>
    </message>
    <message>
        <source>probing</source>
        <translation>探测中</translation>
    </message>
    <message>
        <source> · %1 ms</source>
        <translation> · %1 ms</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>On</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>Only models</source>
        <translation>仅限模型</translation>
    </message>
    <message>
        <source>Never models</source>
        <translation>排除模型</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>健康状态</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Last success</source>
        <translation>最近成功</translation>
    </message>
    <message>
        <source>Disabled upstreams get no requests</source>
        <translation>停用的上游不会收到请求</translation>
    </message>
    <message>
        <source>Share of requests with the weighted policy</source>
        <translation>按权重策略时分到的请求比例</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key may serve; empty = all. A trailing * matches any suffix.</source>
        <translation>此密钥可服务的模型(或 /v1/ 路径),逗号分隔;留空表示全部。末尾的 * 匹配任意后缀。</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key must never serve</source>
        <translation>此密钥绝不服务的模型(或 /v1/ 路径),逗号分隔</translation>
    </message>
    <message>
        <source>Live state: healthy, rate limited, key rejected, resting after failures, or probing</source>
        <translation>实时状态:健康、限流中、密钥被拒、失败后冷却中或探测中</translation>
    </message>
    <message>
        <source>The API is openai or anthropic.</source>
        <translation>API 只能是 openai 或 anthropic。</translation>
    </message>
    <message>
        <source>API</source>
        <translation>API</translation>
    </message>
    <message>
        <source>openai: Chat Completions, Responses and the rest of /v1; anthropic: Messages (Claude Code)</source>
        <translation>openai:Chat Completions、Responses 及 /v1 的其余部分;anthropic:Messages(Claude Code)</translation>
    </message>
    <message>
        <source>Responses</source>
        <translation>Responses</translation>
    </message>
    <message>
        <source>Checked: the upstream serves /v1/responses itself. Unchecked: Responses requests (Codex) are converted to Chat Completions for it</source>
        <translation>勾选:上游自己提供 /v1/responses。不勾选:Responses 请求(Codex)会被转换为 Chat Completions 再发给它</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>%1 (stale)</source>
        <translation>%1(已过期)</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), fetched %1</source>
        <translation><numerusform>%n 个模型,获取于 %1</numerusform></translation>
    </message>
    <message>
        <source>The model list was not fetched yet</source>
        <translation>尚未获取模型列表</translation>
    </message>
    <message>
        <source>Last fetch failed: %1</source>
        <translation>上次获取失败:%1</translation>
    </message>
    <message numerus="yes">
        <source>  … and %n more</source>
        <translation><numerusform>  … 还有 %n 个</numerusform></translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Aliases</source>
        <translation>别名</translation>
    </message>
    <message>
        <source>Proxy</source>
        <translation>代理</translation>
    </message>
    <message>
        <source>How many models the upstream listed when last asked; hover for the list, double-click to edit aliases and the allowed models</source>
        <translation>上游上次列出的模型数量;悬停查看列表,双击编辑别名和允许的模型</translation>
    </message>
    <message>
        <source>Model aliases: the name a client asks for → the name this upstream gets; double-click to edit</source>
        <translation>模型别名:客户端请求的名称 → 发给此上游的名称;双击编辑</translation>
    </message>
    <message>
        <source>http://host:port or socks5://host:port (user:password@ allowed), direct, or empty for the system's HTTPS_PROXY / ALL_PROXY</source>
        <translation>http://主机:端口 或 socks5://主机:端口(可带 用户名:密码@)、direct,或留空以使用系统的 HTTPS_PROXY / ALL_PROXY</translation>
    </message>
</context>
<context>
    <name>route::UpstreamsPage</name>
    <message>
        <source>No upstreams yet. Click &lt;b&gt;Add…&lt;/b&gt; and paste an API key; every client then uses this proxy's base URL and token instead.</source>
        <translation>还没有上游。点击&lt;b&gt;添加…&lt;/b&gt;并粘贴一个 API 密钥;之后所有客户端改用本代理的基地址和令牌。</translation>
    </message>
    <message>
        <source>&amp;Add…</source>
        <translation>添加(&amp;A)…</translation>
    </message>
    <message>
        <source>Add an API key (Ctrl+N)</source>
        <translation>添加一个 API 密钥(Ctrl+N)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>删除(&amp;D)</translation>
    </message>
    <message>
        <source>Delete the selected upstream (Del)</source>
        <translation>删除选中的上游(Del)</translation>
    </message>
    <message>
        <source>&amp;Test key</source>
        <translation>测试密钥(&amp;T)</translation>
    </message>
    <message>
        <source>Ask the upstream for its models with this key; costs no tokens (Ctrl+T)</source>
        <translation>用此密钥向上游查询模型列表;不消耗 token(Ctrl+T)</translation>
    </message>
    <message>
        <source>Move &amp;up</source>
        <translation>上移(&amp;U)</translation>
    </message>
    <message>
        <source>Try this upstream earlier with the order policy (Ctrl+Up)</source>
        <translation>按顺序策略时更早尝试此上游(Ctrl+Up)</translation>
    </message>
    <message>
        <source>Move do&amp;wn</source>
        <translation>下移(&amp;W)</translation>
    </message>
    <message>
        <source>Try this upstream later with the order policy (Ctrl+Down)</source>
        <translation>按顺序策略时更晚尝试此上游(Ctrl+Down)</translation>
    </message>
    <message>
        <source>&amp;Reveal keys</source>
        <translation>显示密钥(&amp;R)</translation>
    </message>
    <message>
        <source>Show the API keys in full (and make them editable)</source>
        <translation>完整显示 API 密钥(并允许编辑)</translation>
    </message>
    <message>
        <source>Added upstream %1.</source>
        <translation>已添加上游 %1。</translation>
    </message>
    <message>
        <source>Delete upstream</source>
        <translation>删除上游</translation>
    </message>
    <message>
        <source>Delete upstream %1? Its key is removed from the database.</source>
        <translation>删除上游 %1 吗?它的密钥会从数据库中移除。</translation>
    </message>
    <message>
        <source>Testing upstream %1…</source>
        <translation>正在测试上游 %1…</translation>
    </message>
    <message>
        <source>Upstream %1 works: %2 ms, %3 models.</source>
        <translation>上游 %1 可用:%2 毫秒,%3 个模型。</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message>
        <source>Upstream %1 failed the test: %2</source>
        <translation>上游 %1 测试失败:%2</translation>
    </message>
    <message>
        <source>&amp;Fetch models</source>
        <translation>获取模型(&amp;F)</translation>
    </message>
    <message>
        <source>Ask the selected upstream (or all, when none is selected) for its model list (F5)</source>
        <translation>向所选上游(未选择时为全部)获取模型列表(F5)</translation>
    </message>
    <message>
        <source>&amp;Models…</source>
        <translation>模型(&amp;M)…</translation>
    </message>
    <message>
        <source>Fetching the model lists…</source>
        <translation>正在获取模型列表…</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Model lists fetched.</source>
        <translation>已获取模型列表。</translation>
    </message>
    <message>
        <source>These upstreams did not list their models: %1</source>
        <translation>以下上游未能列出模型:%1</translation>
    </message>
    <message>
        <source>Saved the models of upstream %1.</source>
        <translation>已保存上游 %1 的模型设置。</translation>
    </message>
    <message>
        <source>The selected upstream's models, aliases and allowed models (Ctrl+M)</source>
        <translation>所选上游的模型、别名和允许的模型(Ctrl+M)</translation>
    </message>
</context>
<context>
    <name>route::UsageChart</name>
    <message>
        <source>No requests in this period</source>
        <translation>此期间没有请求</translation>
    </message>
</context>
<context>
    <name>route::UsagePage</name>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Last 90 days</source>
        <translation>最近 90 天</translation>
    </message>
    <message>
        <source>Last 365 days</source>
        <translation>最近 365 天</translation>
    </message>
    <message>
        <source>by app</source>
        <translation>按应用</translation>
    </message>
    <message>
        <source>by app token</source>
        <translation>按应用令牌</translation>
    </message>
    <message>
        <source>by upstream</source>
        <translation>按上游</translation>
    </message>
    <message>
        <source>by model</source>
        <translation>按模型</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Input tokens</source>
        <translation>输入 token</translation>
    </message>
    <message>
        <source>of them cached</source>
        <translation>其中缓存</translation>
    </message>
    <message>
        <source>Output tokens</source>
        <translation>输出 token</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>费用</translation>
    </message>
    <message>
        <source>Cost per day (UTC)</source>
        <translation>每日费用(UTC)</translation>
    </message>
    <message>
        <source>Tokens per day (input and output)</source>
        <translation>每日 token(输入和输出)</translation>
    </message>
    <message>
        <source>seed token</source>
        <translation>主令牌</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>(未知)</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>upstream %1</source>
        <translation>上游 %1</translation>
    </message>
    <message>
        <source>other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>%L1 requests, %2 from %3 to %4</source>
        <translation>%L1 个请求,%2,从 %3 到 %4</translation>
    </message>
</context>
<context>
    <name>route::WebhookNotifier</name>
    <message>
        <source>openai-api-route: upstream %1 (%2, key %3) is down: %4</source>
        <translation>openai-api-route:上游 %1(%2,密钥 %3)不可用:%4</translation>
    </message>
    <message>
        <source>openai-api-route: upstream %1 (%2, key %3) answers again</source>
        <translation>openai-api-route:上游 %1(%2,密钥 %3)已恢复</translation>
    </message>
    <message>
        <source>openai-api-route: all %1 upstreams are down</source>
        <translation>openai-api-route:全部 %1 个上游都不可用</translation>
    </message>
</context>
</TS>