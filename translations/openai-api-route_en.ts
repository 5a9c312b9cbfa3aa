<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en">
<context>
    <name>CliCommands</name>
    <message>
        <source>cannot read the upstreams: %1</source>
        <translation>cannot read the upstreams: %1</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>NAME</source>
        <translation>NAME</translation>
    </message>
    <message>
        <source>ENDPOINT</source>
        <translation>ENDPOINT</translation>
    </message>
    <message>
        <source>SK</source>
        <translation>SK</translation>
    </message>
    <message>
        <source>ENABLED</source>
        <translation>ENABLED</translation>
    </message>
    <message>
        <source>WEIGHT</source>
        <translation>WEIGHT</translation>
    </message>
    <message>
        <source>SUCCESS</source>
        <translation>SUCCESS</translation>
    </message>
    <message>
        <source>FAILED</source>
        <translation>FAILED</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
    <message>
        <source>(no upstreams; add one with -add -sk KEY -endpoint URL)</source>
        <translation>(no upstreams; add one with -add -sk KEY -endpoint URL)</translation>
    </message>
    <message>
        <source>cannot store the client token in %1</source>
        <translation>cannot store the client token in %1</translation>
    </message>
    <message>
        <source>cannot store the policy in %1</source>
        <translation>cannot store the policy in %1</translation>
    </message>
    <message>
        <source>no upstream with ID %1</source>
        <translation>no upstream with ID %1</translation>
    </message>
    <message>
        <source>OK: upstream %1 answered in %2 ms, %3 models</source>
        <translation>OK: upstream %1 answered in %2 ms, %3 models</translation>
    </message>
    <message>
        <source>FAILED: upstream %1: %2</source>
        <translation>FAILED: upstream %1: %2</translation>
    </message>
    <message>
        <source>FORMAT</source>
        <translation>FORMAT</translation>
    </message>
    <message>
        <source>MODELS</source>
        <translation>MODELS</translation>
    </message>
    <message>
        <source>app token %1 (%2): shown only now; valid on /v1 only. Set limits in the Apps page or with PUT /admin/tokens/%1.</source>
        <translation>app token %1 (%2): shown only now; valid on /v1 only. Set limits in the Apps page or with PUT /admin/tokens/%1.</translation>
    </message>
</context>
<context>
    <name>CommandLine</name>
    <message>
        <source>Add an upstream from -sk and -endpoint, print its ID and exit.</source>
        <translation>Add an upstream from -sk and -endpoint, print its ID and exit.</translation>
    </message>
    <message>
        <source>Listen address: HOST:PORT, :PORT (all interfaces) or [::1]:PORT; port 0 picks a free one.</source>
        <translation>Listen address: HOST:PORT, :PORT (all interfaces) or [::1]:PORT; port 0 picks a free one.</translation>
    </message>
    <message>
        <source>address</source>
        <translation>address</translation>
    </message>
    <message>
        <source>SQLite database file, created if missing, or postgresql://user:pass@host:port/db (default: db.sqlite in the app-data folder).</source>
        <translation>SQLite database file, created if missing, or postgresql://user:pass@host:port/db (default: db.sqlite in the app-data folder).</translation>
    </message>
    <message>
        <source>dsn</source>
        <translation>dsn</translation>
    </message>
    <message>
        <source>Upstream base URL for -add.</source>
        <translation>Upstream base URL for -add.</translation>
    </message>
    <message>
        <source>url</source>
        <translation>url</translation>
    </message>
    <message>
        <source>List the upstreams (keys masked) and exit.</source>
        <translation>List the upstreams (keys masked) and exit.</translation>
    </message>
    <message>
        <source>Do not check the Authorization header of /v1 requests (the admin API still does).</source>
        <translation>Do not check the Authorization header of /v1 requests (the admin API still does).</translation>
    </message>
    <message>
        <source>Upstream API key for -add (sk-xxxxx).</source>
        <translation>Upstream API key for -add (sk-xxxxx).</translation>
    </message>
    <message>
        <source>key</source>
        <translation>key</translation>
    </message>
    <message>
        <source>Run the proxy without window or tray icon.</source>
        <translation>Run the proxy without window or tray icon.</translation>
    </message>
    <message>
        <source>Set the client token(s), comma-separated, store them in the database and go on.</source>
        <translation>Set the client token(s), comma-separated, store them in the database and go on.</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>tokens</translation>
    </message>
    <message>
        <source>Balancing policy, stored in the database: %1.</source>
        <translation>Balancing policy, stored in the database: %1.</translation>
    </message>
    <message>
        <source>name</source>
        <translation>name</translation>
    </message>
    <message>
        <source>Test the key of upstream ID with GET {endpoint}/models (costs no tokens) and exit.</source>
        <translation>Test the key of upstream ID with GET {endpoint}/models (costs no tokens) and exit.</translation>
    </message>
    <message>
        <source>id</source>
        <translation>id</translation>
    </message>
    <message>
        <source>Language of the interface: en or zh_CN (default: the system's).</source>
        <translation>Language of the interface: en or zh_CN (default: the system's).</translation>
    </message>
    <message>
        <source>code</source>
        <translation>code</translation>
    </message>
    <message>
        <source>Show this help and exit.</source>
        <translation>Show this help and exit.</translation>
    </message>
    <message>
        <source>Show the version and exit.</source>
        <translation>Show the version and exit.</translation>
    </message>
    <message>
        <source>
Every flag also works with two dashes (--addr). Exit status: 0 success, 1 runtime failure, 2 usage error.
</source>
        <translation>
Every flag also works with two dashes (--addr). Exit status: 0 success, 1 runtime failure, 2 usage error.
</translation>
    </message>
    <message>
        <source>unknown policy '%1'; use one of: %2</source>
        <translation>unknown policy '%1'; use one of: %2</translation>
    </message>
    <message>
        <source>-test needs an upstream ID (see -list)</source>
        <translation>-test needs an upstream ID (see -list)</translation>
    </message>
    <message>
        <source>-add and -list cannot be used together</source>
        <translation>-add and -list cannot be used together</translation>
    </message>
    <message>
        <source>-add needs -sk KEY</source>
        <translation>-add needs -sk KEY</translation>
    </message>
    <message>
        <source>-endpoint must be an http:// or https:// URL, got '%1'</source>
        <translation>-endpoint must be an http:// or https:// URL, got '%1'</translation>
    </message>
    <message>
        <source>-auth needs at least one token</source>
        <translation>-auth needs at least one token</translation>
    </message>
    <message>
        <source>One local OpenAI-compatible base URL in front of all your API keys.</source>
        <translation>One local OpenAI-compatible base URL in front of all your API keys.</translation>
    </message>
    <message>
        <source>unexpected argument '%1'</source>
        <translation>unexpected argument '%1'</translation>
    </message>
    <message>
        <source>API of the upstream for -add: openai (Chat Completions, Responses…) or anthropic (Messages).</source>
        <translation>API of the upstream for -add: openai (Chat Completions, Responses…) or anthropic (Messages).</translation>
    </message>
    <message>
        <source>-format must be openai or anthropic, got '%1'</source>
        <translation>-format must be openai or anthropic, got '%1'</translation>
    </message>
    <message>
        <source>Make an app token called NAME (valid on /v1 only), print it once and exit.</source>
        <translation>Make an app token called NAME (valid on /v1 only), print it once and exit.</translation>
    </message>
    <message>
        <source>-token-add needs a NAME for the app or person</source>
        <translation>-token-add needs a NAME for the app or person</translation>
    </message>
</context>
<context>
    <name>ConfigService</name>
    <message>
        <source>no upstream with ID %1</source>
        <translation>no upstream with ID %1</translation>
    </message>
    <message>
        <source>an upstream with this SK and Endpoint exists already (ID %1)</source>
        <translation>an upstream with this SK and Endpoint exists already (ID %1)</translation>
    </message>
    <message>
        <source>the database said: %1</source>
        <translation>the database said: %1</translation>
    </message>
    <message>
        <source>SK must not be empty</source>
        <translation>SK must not be empty</translation>
    </message>
    <message>
        <source>Endpoint must not be empty</source>
        <translation>Endpoint must not be empty</translation>
    </message>
    <message>
        <source>Endpoint must be an http:// or https:// URL, got '%1'</source>
        <translation>Endpoint must be an http:// or https:// URL, got '%1'</translation>
    </message>
    <message>
        <source>Weight must be 0 or more</source>
        <translation>Weight must be 0 or more</translation>
    </message>
    <message>
        <source>a timeout must be 0 (the default) or more</source>
        <translation>a timeout must be 0 (the default) or more</translation>
    </message>
    <message>
        <source>a timeout must be at least 1 second</source>
        <translation>a timeout must be at least 1 second</translation>
    </message>
    <message>
        <source>record limits must be 0 or more</source>
        <translation>record limits must be 0 or more</translation>
    </message>
    <message>
        <source>WebhookURL must be an http:// or https:// URL, or empty to turn alerts off</source>
        <translation>WebhookURL must be an http:// or https:// URL, or empty to turn alerts off</translation>
    </message>
    <message>
        <source>WebhookFormat must be one of: generic, feishu, matrix</source>
        <translation>WebhookFormat must be one of: generic, feishu, matrix</translation>
    </message>
    <message>
        <source>cannot store the settings</source>
        <translation>cannot store the settings</translation>
    </message>
    <message>
        <source>cannot store the client token</source>
        <translation>cannot store the client token</translation>
    </message>
    <message>
        <source>AffinityTTL must be 0 (off) or more seconds</source>
        <translation>AffinityTTL must be 0 (off) or more seconds</translation>
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
        <translation>the system keychain: %1</translation>
    </message>
    <message>
        <source>cannot read the settings</source>
        <translation>cannot read the settings</translation>
    </message>
    <message>
        <source>cannot read the upstreams</source>
        <translation>cannot read the upstreams</translation>
    </message>
</context>
<context>
    <name>KeyVault</name>
    <message>
        <source>the system keychain did not answer in %1 s</source>
        <translation>the system keychain did not answer in %1 s</translation>
    </message>
    <message>
        <source>the system keychain is not available: %1</source>
        <translation>the system keychain is not available: %1</translation>
    </message>
    <message>
        <source>this build has no keychain support (build it with qtkeychain-qt6-dev installed)</source>
        <translation>this build has no keychain support (build it with qtkeychain-qt6-dev installed)</translation>
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
        <translation>invalid listen address '%1': expected HOST:PORT or :PORT</translation>
    </message>
    <message>
        <source>invalid port in listen address '%1'</source>
        <translation>invalid port in listen address '%1'</translation>
    </message>
    <message>
        <source>invalid listen address '%1': write IPv6 addresses as [ADDR]:PORT</source>
        <translation>invalid listen address '%1': write IPv6 addresses as [ADDR]:PORT</translation>
    </message>
    <message>
        <source>invalid host in listen address '%1': use an IP address</source>
        <translation>invalid host in listen address '%1': use an IP address</translation>
    </message>
    <message>
        <source>invalid PostgreSQL address: %1</source>
        <translation>invalid PostgreSQL address: %1</translation>
    </message>
    <message>
        <source>empty database path</source>
        <translation>empty database path</translation>
    </message>
    <message>
        <source>the PostgreSQL driver (QPSQL) is not installed</source>
        <translation>the PostgreSQL driver (QPSQL) is not installed</translation>
    </message>
    <message>
        <source>cannot open database %1: %2</source>
        <translation>cannot open database %1: %2</translation>
    </message>
    <message>
        <source>cannot create folder %1</source>
        <translation>cannot create folder %1</translation>
    </message>
    <message>
        <source>the SQLite driver (QSQLITE) is not installed</source>
        <translation>the SQLite driver (QSQLITE) is not installed</translation>
    </message>
    <message>
        <source>cannot read database %1: %2</source>
        <translation>cannot read database %1: %2</translation>
    </message>
    <message>
        <source>database migration %1 failed: %2</source>
        <translation>database migration %1 failed: %2</translation>
    </message>
    <message>
        <source>an upstream with this SK and Endpoint exists already (ID %1)</source>
        <translation>an upstream with this SK and Endpoint exists already (ID %1)</translation>
    </message>
    <message>
        <source>no upstream with ID %1</source>
        <translation>no upstream with ID %1</translation>
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
        <translation>Run 'openai-api-route -help' for the list of flags.</translation>
    </message>
    <message>
        <source>No display found; running headless (as with --no-gui).</source>
        <translation>No display found; running headless (as with --no-gui).</translation>
    </message>
    <message>
        <source>openai-api-route already runs with %1; showing its window.</source>
        <translation>openai-api-route already runs with %1; showing its window.</translation>
    </message>
    <message>
        <source>stopping: finishing requests in flight…</source>
        <translation>stopping: finishing requests in flight…</translation>
    </message>
    <message>
        <source>database: %1</source>
        <translation>database: %1</translation>
    </message>
    <message>
        <source>listening on %1 — base URL %2</source>
        <translation>listening on %1 — base URL %2</translation>
    </message>
    <message>
        <source>client token (generated now, shown once; use it as the API key): %1</source>
        <translation>client token (generated now, shown once; use it as the API key): %1</translation>
    </message>
    <message>
        <source>authentication is off for /v1 (-noauth)</source>
        <translation>authentication is off for /v1 (-noauth)</translation>
    </message>
</context>
<context>
    <name>route::AddUpstreamDialog</name>
    <message>
        <source>Test the key before saving</source>
        <translation>Test the key before saving</translation>
    </message>
    <message>
        <source>Add upstream</source>
        <translation>Add upstream</translation>
    </message>
    <message>
        <source>optional, e.g. work key</source>
        <translation>optional, e.g. work key</translation>
    </message>
    <message>
        <source>The base URL of an OpenAI-compatible API; the client's /v1 is replaced by its path</source>
        <translation>The base URL of an OpenAI-compatible API; the client's /v1 is replaced by its path</translation>
    </message>
    <message>
        <source>The API key of this upstream; it is stored in the local database and never shown to clients</source>
        <translation>The API key of this upstream; it is stored in the local database and never shown to clients</translation>
    </message>
    <message>
        <source>Show the key</source>
        <translation>Show the key</translation>
    </message>
    <message>
        <source>Asks GET {endpoint}/models with the key; this costs no tokens</source>
        <translation>Asks GET {endpoint}/models with the key; this costs no tokens</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Endpoint:</source>
        <translation>&amp;Endpoint:</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API &amp;key:</translation>
    </message>
    <message>
        <source>The endpoint must be an http:// or https:// URL, such as https://api.openai.com/v1.</source>
        <translation>The endpoint must be an http:// or https:// URL, such as https://api.openai.com/v1.</translation>
    </message>
    <message>
        <source>Enter the API key.</source>
        <translation>Enter the API key.</translation>
    </message>
    <message>
        <source>Testing the key…</source>
        <translation>Testing the key…</translation>
    </message>
    <message>
        <source>The key works (%1 ms, %2 models).</source>
        <translation>The key works (%1 ms, %2 models).</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message>
        <source>The test failed: %1</source>
        <translation>The test failed: %1</translation>
    </message>
    <message>
        <source>Key test failed</source>
        <translation>Key test failed</translation>
    </message>
    <message>
        <source>The upstream answered: %1

Save it anyway?</source>
        <translation>The upstream answered: %1

Save it anyway?</translation>
    </message>
    <message>
        <source>OpenAI-compatible (Chat Completions, Responses)</source>
        <translation>OpenAI-compatible (Chat Completions, Responses)</translation>
    </message>
    <message>
        <source>Anthropic (Messages, for Claude Code)</source>
        <translation>Anthropic (Messages, for Claude Code)</translation>
    </message>
    <message>
        <source>The API this upstream speaks; requests go to the upstreams of their own API</source>
        <translation>The API this upstream speaks; requests go to the upstreams of their own API</translation>
    </message>
    <message>
        <source>&amp;API:</source>
        <translation>&amp;API:</translation>
    </message>
    <message>
        <source>empty = the system's HTTPS_PROXY / ALL_PROXY, if set</source>
        <translation>empty = the system's HTTPS_PROXY / ALL_PROXY, if set</translation>
    </message>
    <message>
        <source>Reach this upstream through a proxy: http://host:port or socks5://host:port, with user:password@ if it needs them; direct = never a proxy</source>
        <translation>Reach this upstream through a proxy: http://host:port or socks5://host:port, with user:password@ if it needs them; direct = never a proxy</translation>
    </message>
    <message>
        <source>&amp;Proxy:</source>
        <translation>&amp;Proxy:</translation>
    </message>
    <message>
        <source>The proxy must be http://host:port or socks5://host:port, or empty.</source>
        <translation>The proxy must be http://host:port or socks5://host:port, or empty.</translation>
    </message>
</context>
<context>
    <name>route::AdminApi</name>
    <message>
        <source>the database is not reachable: %1</source>
        <translation>the database is not reachable: %1</translation>
    </message>
</context>
<context>
    <name>route::AppController</name>
    <message>
        <source>No system tray</source>
        <translation>No system tray</translation>
    </message>
    <message>
        <source>This desktop has no system tray, so openai-api-route shows its window instead. Closing the window quits the proxy.</source>
        <translation>This desktop has no system tray, so openai-api-route shows its window instead. Closing the window quits the proxy.</translation>
    </message>
</context>
<context>
    <name>route::AppTokenDialog</name>
    <message>
        <source>Expires on</source>
        <translation>Expires on</translation>
    </message>
    <message>
        <source>Enabled</source>
        <translation>Enabled</translation>
    </message>
    <message>
        <source>App token %1</source>
        <translation>App token %1</translation>
    </message>
    <message>
        <source>New app token</source>
        <translation>New app token</translation>
    </message>
    <message>
        <source>the app or person, e.g. claude-code or alice</source>
        <translation>the app or person, e.g. claude-code or alice</translation>
    </message>
    <message>
        <source>empty = every model; e.g. gpt-4o-mini*, deepseek-*</source>
        <translation>empty = every model; e.g. gpt-4o-mini*, deepseek-*</translation>
    </message>
    <message>
        <source>no limit</source>
        <translation>no limit</translation>
    </message>
    <message>
        <source> per minute</source>
        <translation> per minute</translation>
    </message>
    <message>
        <source> thousand</source>
        <translation> thousand</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Models:</source>
        <translation>&amp;Models:</translation>
    </message>
    <message>
        <source>&amp;Requests:</source>
        <translation>&amp;Requests:</translation>
    </message>
    <message>
        <source>&amp;Tokens per day (UTC):</source>
        <translation>&amp;Tokens per day (UTC):</translation>
    </message>
    <message>
        <source>&amp;Budget per month (UTC):</source>
        <translation>&amp;Budget per month (UTC):</translation>
    </message>
</context>
<context>
    <name>route::AppsPage</name>
    <message>
        <source>models %1</source>
        <translation>models %1</translation>
    </message>
    <message>
        <source>%1/min</source>
        <translation>%1/min</translation>
    </message>
    <message>
        <source>%L1 tokens/day</source>
        <translation>%L1 tokens/day</translation>
    </message>
    <message>
        <source>$%1/month</source>
        <translation>$%1/month</translation>
    </message>
    <message>
        <source>until %1</source>
        <translation>until %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <source>&amp;Add token…</source>
        <translation>&amp;Add token…</translation>
    </message>
    <message>
        <source>A token for one app or person, with its own limits</source>
        <translation>A token for one app or person, with its own limits</translation>
    </message>
    <message>
        <source>&amp;Limits…</source>
        <translation>&amp;Limits…</translation>
    </message>
    <message>
        <source>Models, requests per minute, tokens per day, budget, expiry</source>
        <translation>Models, requests per minute, tokens per day, budget, expiry</translation>
    </message>
    <message>
        <source>Enable/&amp;disable</source>
        <translation>Enable/&amp;disable</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Delete</translation>
    </message>
    <message>
        <source>&amp;Connect an app…</source>
        <translation>&amp;Connect an app…</translation>
    </message>
    <message>
        <source>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</source>
        <translation>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>On</source>
        <translation>On</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Limits</translation>
    </message>
    <message>
        <source>Tokens today</source>
        <translation>Tokens today</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>This month</translation>
    </message>
    <message>
        <source>Last used</source>
        <translation>Last used</translation>
    </message>
    <message>
        <source>App</source>
        <translation>App</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Requests</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Cost</translation>
    </message>
    <message>
        <source>Apps seen this month (UTC): the program behind each request, or its User-Agent</source>
        <translation>Apps seen this month (UTC): the program behind each request, or its User-Agent</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
    <message>
        <source>never</source>
        <translation>never</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>(unknown)</translation>
    </message>
    <message>
        <source>Added app token %1 for %2.</source>
        <translation>Added app token %1 for %2.</translation>
    </message>
    <message>
        <source>Delete app token</source>
        <translation>Delete app token</translation>
    </message>
    <message>
        <source>Delete app token %1? Apps that use it are refused from now on.</source>
        <translation>Delete app token %1? Apps that use it are refused from now on.</translation>
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
        <translation>Connect an app</translation>
    </message>
    <message>
        <source>The new token, shown only now (only its hash is kept): copy it before you close this window.</source>
        <translation>The new token, shown only now (only its hash is kept): copy it before you close this window.</translation>
    </message>
    <message>
        <source>Copy the token</source>
        <translation>Copy the token</translation>
    </message>
    <message>
        <source>Claude Code</source>
        <translation>Claude Code</translation>
    </message>
    <message>
        <source>In the shell that starts claude, or in ~/.claude/settings.json under "env":</source>
        <translation>In the shell that starts claude, or in ~/.claude/settings.json under "env":</translation>
    </message>
    <message>
        <source>Codex CLI</source>
        <translation>Codex CLI</translation>
    </message>
    <message>
        <source>In ~/.codex/config.toml; then export ROUTE_TOKEN=%1 in the shell that starts codex:</source>
        <translation>In ~/.codex/config.toml; then export ROUTE_TOKEN=%1 in the shell that starts codex:</translation>
    </message>
    <message>
        <source>OpenAI SDKs</source>
        <translation>OpenAI SDKs</translation>
    </message>
    <message>
        <source>The official SDKs (Python, Node) read these variables:</source>
        <translation>The official SDKs (Python, Node) read these variables:</translation>
    </message>
    <message>
        <source>Any app</source>
        <translation>Any app</translation>
    </message>
    <message>
        <source>In the app's settings for an OpenAI-compatible provider:</source>
        <translation>In the app's settings for an OpenAI-compatible provider:</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Copy</translation>
    </message>
    <message>
        <source>Copy the settings of this tab</source>
        <translation>Copy the settings of this tab</translation>
    </message>
    <message>
        <source>Base URL (API host): %1
API key: %2
Models: the app's model list is this proxy's list of every upstream's models
</source>
        <translation>Base URL (API host): %1
API key: %2
Models: the app's model list is this proxy's list of every upstream's models
</translation>
    </message>
</context>
<context>
    <name>route::Engine</name>
    <message>
        <source>cannot store the client token in %1</source>
        <translation>cannot store the client token in %1</translation>
    </message>
    <message>
        <source>cannot read the upstreams from %1: %2</source>
        <translation>cannot read the upstreams from %1: %2</translation>
    </message>
    <message>
        <source>cannot open database %1 for records</source>
        <translation>cannot open database %1 for records</translation>
    </message>
    <message>
        <source>cannot listen on %1: %2</source>
        <translation>cannot listen on %1: %2</translation>
    </message>
    <message>
        <source>the proxy is not running</source>
        <translation>the proxy is not running</translation>
    </message>
    <message>
        <source>Listening on %1 with authentication off (-noauth): anyone who can reach this machine can spend your API keys through it. Use -addr 127.0.0.1:PORT, or drop -noauth.</source>
        <translation>Listening on %1 with authentication off (-noauth): anyone who can reach this machine can spend your API keys through it. Use -addr 127.0.0.1:PORT, or drop -noauth.</translation>
    </message>
    <message>
        <source>Listening on %1: reachable from the network, not only from this machine; clients need the token.</source>
        <translation>Listening on %1: reachable from the network, not only from this machine; clients need the token.</translation>
    </message>
</context>
<context>
    <name>route::HealthTracker</name>
    <message>
        <source>every upstream answered 429: the proxy's IP or account is throttled</source>
        <translation>every upstream answered 429: the proxy's IP or account is throttled</translation>
    </message>
    <message>
        <source>no requests or tokens left until the reset</source>
        <translation>no requests or tokens left until the reset</translation>
    </message>
</context>
<context>
    <name>route::HttpListener</name>
    <message>
        <source>address already in use</source>
        <translation>address already in use</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>permission denied</translation>
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
        <translation>&amp;Upstreams</translation>
    </message>
    <message>
        <source>&amp;Requests</source>
        <translation>&amp;Requests</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>&amp;Settings</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>stopped</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>paused</translation>
    </message>
    <message>
        <source>serving</source>
        <translation>serving</translation>
    </message>
    <message>
        <source>%1 on %2 · %3 of %4 upstreams healthy · %5 requests in the last minute</source>
        <translation>%1 on %2 · %3 of %4 upstreams healthy · %5 requests in the last minute</translation>
    </message>
    <message>
        <source>&amp;Apps</source>
        <translation>&amp;Apps</translation>
    </message>
    <message>
        <source>Usa&amp;ge</source>
        <translation>Usa&amp;ge</translation>
    </message>
</context>
<context>
    <name>route::ModelsDialog</name>
    <message>
        <source>&amp;Fetch now</source>
        <translation>&amp;Fetch now</translation>
    </message>
    <message>
        <source>Models of upstream %1</source>
        <translation>Models of upstream %1</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>Filter</translation>
    </message>
    <message>
        <source>The models this upstream listed; double-click to add one to "Only models"</source>
        <translation>The models this upstream listed; double-click to add one to "Only models"</translation>
    </message>
    <message>
        <source>Allow &amp;selected</source>
        <translation>Allow &amp;selected</translation>
    </message>
    <message>
        <source>Add the selected models to "Only models"</source>
        <translation>Add the selected models to "Only models"</translation>
    </message>
    <message>
        <source>empty = every model</source>
        <translation>empty = every model</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key may serve; a trailing * matches any suffix</source>
        <translation>Comma-separated models (or /v1/ paths) this key may serve; a trailing * matches any suffix</translation>
    </message>
    <message>
        <source>Client asks for</source>
        <translation>Client asks for</translation>
    </message>
    <message>
        <source>Sent as</source>
        <translation>Sent as</translation>
    </message>
    <message>
        <source>gpt-4o → openai/gpt-4o, or a glob: gpt-* → openai/gpt-* sends gpt-4.1 as openai/gpt-4.1. An exact name wins over a glob, a longer glob over a shorter one.</source>
        <translation>gpt-4o → openai/gpt-4o, or a glob: gpt-* → openai/gpt-* sends gpt-4.1 as openai/gpt-4.1. An exact name wins over a glob, a longer glob over a shorter one.</translation>
    </message>
    <message>
        <source>&amp;Add alias</source>
        <translation>&amp;Add alias</translation>
    </message>
    <message>
        <source>&amp;Remove alias</source>
        <translation>&amp;Remove alias</translation>
    </message>
    <message>
        <source>Only &amp;models:</source>
        <translation>Only &amp;models:</translation>
    </message>
    <message>
        <source>Aliases:</source>
        <translation>Aliases:</translation>
    </message>
    <message>
        <source>Upstream %1 no longer exists.</source>
        <translation>Upstream %1 no longer exists.</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), fetched %1.</source>
        <translation><numerusform>%n model, fetched %1.</numerusform><numerusform>%n models, fetched %1.</numerusform></translation>
    </message>
    <message>
        <source>The model list was not fetched yet.</source>
        <translation>The model list was not fetched yet.</translation>
    </message>
    <message>
        <source>The last fetch failed: %1</source>
        <translation>The last fetch failed: %1</translation>
    </message>
    <message>
        <source>Fetching the model list…</source>
        <translation>Fetching the model list…</translation>
    </message>
    <message>
        <source>The aliases cannot be saved: every row needs both names, and '*' may only end a name (and its target only when the name ends in it).</source>
        <translation>The aliases cannot be saved: every row needs both names, and '*' may only end a name (and its target only when the name ends in it).</translation>
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
        <translation>invalid endpoint %1</translation>
    </message>
    <message>
        <source>no response headers within %1 s</source>
        <translation>no response headers within %1 s</translation>
    </message>
    <message>
        <source>stream stalled</source>
        <translation>stream stalled</translation>
    </message>
    <message>
        <source>upstream sent nothing for %1 s</source>
        <translation>upstream sent nothing for %1 s</translation>
    </message>
    <message>
        <source>client closed the connection</source>
        <translation>client closed the connection</translation>
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
        <translation>Attempts (upstream:result): %1</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>Client</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Method</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Path</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Model</translation>
    </message>
    <message>
        <source>Upstream</source>
        <translation>Upstream</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>First byte</source>
        <translation>First byte</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>Duration</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Outcome</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>input %1 (cached %2, written to the cache %3) · output %4 (reasoning %5)</source>
        <translation>input %1 (cached %2, written to the cache %3) · output %4 (reasoning %5)</translation>
    </message>
    <message>
        <source>Asked for %1; upstream %2 was sent %3 (an alias)</source>
        <translation>Asked for %1; upstream %2 was sent %3 (an alias)</translation>
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
        <translation>/metrics needs the client token (app tokens do not count); set MetricsPublic to serve it to anyone</translation>
    </message>
</context>
<context>
    <name>route::RequestsPage</name>
    <message>
        <source>Filter: model, path, status, upstream, error…</source>
        <translation>Filter: model, path, status, upstream, error…</translation>
    </message>
    <message>
        <source>Shows only the requests that contain this text in any column</source>
        <translation>Shows only the requests that contain this text in any column</translation>
    </message>
    <message>
        <source>No requests yet. Point a client at the proxy:&lt;br&gt;&lt;code&gt;export OPENAI_BASE_URL=%1&lt;br&gt;export OPENAI_API_KEY=&amp;lt;the token from the Settings tab&amp;gt;&lt;/code&gt;</source>
        <translation>No requests yet. Point a client at the proxy:&lt;br&gt;&lt;code&gt;export OPENAI_BASE_URL=%1&lt;br&gt;export OPENAI_API_KEY=&amp;lt;the token from the Settings tab&amp;gt;&lt;/code&gt;</translation>
    </message>
</context>
<context>
    <name>route::SettingsPage</name>
    <message>
        <source>Record request and response bodies</source>
        <translation>Record request and response bodies</translation>
    </message>
    <message>
        <source>Start at login</source>
        <translation>Start at login</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>&amp;Apply</translation>
    </message>
    <message>
        <source>Move the proxy to this address; requests in flight finish on the old one</source>
        <translation>Move the proxy to this address; requests in flight finish on the old one</translation>
    </message>
    <message>
        <source>HOST:PORT, :PORT for all interfaces, or [::1]:PORT</source>
        <translation>HOST:PORT, :PORT for all interfaces, or [::1]:PORT</translation>
    </message>
    <message>
        <source>Clients use this as their API key</source>
        <translation>Clients use this as their API key</translation>
    </message>
    <message>
        <source>Show the token</source>
        <translation>Show the token</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Copy</translation>
    </message>
    <message>
        <source>Copy the token to the clipboard</source>
        <translation>Copy the token to the clipboard</translation>
    </message>
    <message>
        <source>&amp;Regenerate…</source>
        <translation>&amp;Regenerate…</translation>
    </message>
    <message>
        <source>Make a new random token; clients with the old one are refused</source>
        <translation>Make a new random token; clients with the old one are refused</translation>
    </message>
    <message>
        <source>In order (first healthy key)</source>
        <translation>In order (first healthy key)</translation>
    </message>
    <message>
        <source>Round robin</source>
        <translation>Round robin</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>Random</translation>
    </message>
    <message>
        <source>Weighted</source>
        <translation>Weighted</translation>
    </message>
    <message>
        <source>Fewest requests in flight</source>
        <translation>Fewest requests in flight</translation>
    </message>
    <message>
        <source>Lowest latency</source>
        <translation>Lowest latency</translation>
    </message>
    <message>
        <source>How the proxy picks the key for each request</source>
        <translation>How the proxy picks the key for each request</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>How long to wait for an upstream's response headers before trying the next one</source>
        <translation>How long to wait for an upstream's response headers before trying the next one</translation>
    </message>
    <message>
        <source>The same for streamed requests ("stream": true)</source>
        <translation>The same for streamed requests ("stream": true)</translation>
    </message>
    <message>
        <source>How long a response may stay silent before it is ended as failed</source>
        <translation>How long a response may stay silent before it is ended as failed</translation>
    </message>
    <message>
        <source>Keep the first 64 KiB of each request and answer in the records (off by default)</source>
        <translation>Keep the first 64 KiB of each request and answer in the records (off by default)</translation>
    </message>
    <message>
        <source>Start openai-api-route when you log in</source>
        <translation>Start openai-api-route when you log in</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>System language</translation>
    </message>
    <message>
        <source>Applies at the next start</source>
        <translation>Applies at the next start</translation>
    </message>
    <message>
        <source>Listen &amp;address:</source>
        <translation>Listen &amp;address:</translation>
    </message>
    <message>
        <source>Client &amp;token:</source>
        <translation>Client &amp;token:</translation>
    </message>
    <message>
        <source>&amp;Policy:</source>
        <translation>&amp;Policy:</translation>
    </message>
    <message>
        <source>Response &amp;timeout:</source>
        <translation>Response &amp;timeout:</translation>
    </message>
    <message>
        <source>&amp;Stream timeout:</source>
        <translation>&amp;Stream timeout:</translation>
    </message>
    <message>
        <source>&amp;Idle timeout:</source>
        <translation>&amp;Idle timeout:</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Language:</translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation>Cannot write %1.</translation>
    </message>
    <message>
        <source>Listening on %1</source>
        <translation>Listening on %1</translation>
    </message>
    <message>
        <source>Regenerate token</source>
        <translation>Regenerate token</translation>
    </message>
    <message>
        <source>Make a new token? Every client that uses the current one is refused until you give it the new one.</source>
        <translation>Make a new token? Every client that uses the current one is refused until you give it the new one.</translation>
    </message>
    <message>
        <source>The new token could not be stored.</source>
        <translation>The new token could not be stored.</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>The settings were not saved: %1</source>
        <translation>The settings were not saved: %1</translation>
    </message>
    <message>
        <source>Serve /metrics without the token</source>
        <translation>Serve /metrics without the token</translation>
    </message>
    <message>
        <source>e.g. proxy.lan, my-laptop.local</source>
        <translation>e.g. proxy.lan, my-laptop.local</translation>
    </message>
    <message>
        <source>Host names, comma-separated, that clients may use for this proxy besides localhost and 127.0.0.1; any other is refused, so a web page cannot reach it by DNS rebinding</source>
        <translation>Host names, comma-separated, that clients may use for this proxy besides localhost and 127.0.0.1; any other is refused, so a web page cannot reach it by DNS rebinding</translation>
    </message>
    <message>
        <source>e.g. https://tool.example</source>
        <translation>e.g. https://tool.example</translation>
    </message>
    <message>
        <source>Web page origins, comma-separated, that may use the admin API from a browser besides pages on localhost</source>
        <translation>Web page origins, comma-separated, that may use the admin API from a browser besides pages on localhost</translation>
    </message>
    <message>
        <source>Allowed &amp;hosts:</source>
        <translation>Allowed &amp;hosts:</translation>
    </message>
    <message>
        <source>Allowed &amp;origins:</source>
        <translation>Allowed &amp;origins:</translation>
    </message>
    <message>
        <source>Move keys to the &amp;keychain</source>
        <translation>Move keys to the &amp;keychain</translation>
    </message>
    <message>
        <source>Move keys back to the &amp;database</source>
        <translation>Move keys back to the &amp;database</translation>
    </message>
    <message>
        <source>Keep every API key in the system keychain (Secret Service: GNOME Keyring, KWallet, KeePassXC); the database then holds only a reference, and keys added later go there too</source>
        <translation>Keep every API key in the system keychain (Secret Service: GNOME Keyring, KWallet, KeePassXC); the database then holds only a reference, and keys added later go there too</translation>
    </message>
    <message>
        <source>Put every key back into the database, where the headless mode and hand edits of the table expect it</source>
        <translation>Put every key back into the database, where the headless mode and hand edits of the table expect it</translation>
    </message>
    <message numerus="yes">
        <source>Keys are kept in the database (%n key(s)).</source>
        <translation><numerusform>Keys are kept in the database (%n key).</numerusform><numerusform>Keys are kept in the database (%n keys).</numerusform></translation>
    </message>
    <message>
        <source>Asking the system keychain…</source>
        <translation>Asking the system keychain…</translation>
    </message>
    <message>
        <source>Keys in the keychain</source>
        <translation>Keys in the keychain</translation>
    </message>
    <message>
        <source>Move every API key into the system keychain? The database keeps only a reference; the headless mode and other machines cannot read the keys from there.</source>
        <translation>Move every API key into the system keychain? The database keeps only a reference; the headless mode and other machines cannot read the keys from there.</translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved; then: %1</source>
        <translation><numerusform>%n key moved; then: %1</numerusform><numerusform>%n keys moved; then: %1</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved into the system keychain.</source>
        <translation><numerusform>%n key moved into the system keychain.</numerusform><numerusform>%n keys moved into the system keychain.</numerusform></translation>
    </message>
    <message>
        <source>Keys in the database</source>
        <translation>Keys in the database</translation>
    </message>
    <message numerus="yes">
        <source>%n key(s) moved back into the database.</source>
        <translation><numerusform>%n key moved back into the database.</numerusform><numerusform>%n keys moved back into the database.</numerusform></translation>
    </message>
    <message>
        <source>For a Prometheus scraper without the token; the figures give upstream IDs and model names, never keys</source>
        <translation>For a Prometheus scraper without the token; the figures give upstream IDs and model names, never keys</translation>
    </message>
    <message>
        <source>API keys:</source>
        <translation>API keys:</translation>
    </message>
    <message numerus="yes">
        <source>In the system keychain: %1 of %n key(s).</source>
        <translation><numerusform>In the system keychain: %1 of %n key.</numerusform><numerusform>In the system keychain: %1 of %n keys.</numerusform></translation>
    </message>
</context>
<context>
    <name>route::TcpStream</name>
    <message>
        <source>the remote host closed the connection</source>
        <translation>the remote host closed the connection</translation>
    </message>
</context>
<context>
    <name>route::TrayController</name>
    <message>
        <source>&amp;Open manager</source>
        <translation>&amp;Open manager</translation>
    </message>
    <message>
        <source>Upstreams, requests and settings</source>
        <translation>Upstreams, requests and settings</translation>
    </message>
    <message>
        <source>Copy &amp;base URL</source>
        <translation>Copy &amp;base URL</translation>
    </message>
    <message>
        <source>Paste it into your client's "base URL" or "API host" setting</source>
        <translation>Paste it into your client's "base URL" or "API host" setting</translation>
    </message>
    <message>
        <source>Copy &amp;token</source>
        <translation>Copy &amp;token</translation>
    </message>
    <message>
        <source>Paste it into your client's "API key" setting</source>
        <translation>Paste it into your client's "API key" setting</translation>
    </message>
    <message>
        <source>Copy &amp;environment snippet</source>
        <translation>Copy &amp;environment snippet</translation>
    </message>
    <message>
        <source>OPENAI_BASE_URL and OPENAI_API_KEY for a shell</source>
        <translation>OPENAI_BASE_URL and OPENAI_API_KEY for a shell</translation>
    </message>
    <message>
        <source>&amp;Pause proxy</source>
        <translation>&amp;Pause proxy</translation>
    </message>
    <message>
        <source>While paused, clients get an error and no key is used</source>
        <translation>While paused, clients get an error and no key is used</translation>
    </message>
    <message>
        <source>Start at &amp;login</source>
        <translation>Start at &amp;login</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>serving</source>
        <translation>serving</translation>
    </message>
    <message>
        <source>some upstreams are down</source>
        <translation>some upstreams are down</translation>
    </message>
    <message>
        <source>all upstreams are down</source>
        <translation>all upstreams are down</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>paused</translation>
    </message>
    <message>
        <source>All upstreams are down</source>
        <translation>All upstreams are down</translation>
    </message>
    <message>
        <source>No key is answering; requests fail until one recovers.</source>
        <translation>No key is answering; requests fail until one recovers.</translation>
    </message>
    <message>
        <source>Upstream %1 is back</source>
        <translation>Upstream %1 is back</translation>
    </message>
    <message>
        <source>It answers again.</source>
        <translation>It answers again.</translation>
    </message>
    <message>
        <source>Key of upstream %1 rejected</source>
        <translation>Key of upstream %1 rejected</translation>
    </message>
    <message>
        <source>The upstream refused the key (%1). Check or replace it in the manager.</source>
        <translation>The upstream refused the key (%1). Check or replace it in the manager.</translation>
    </message>
    <message>
        <source>Upstream %1 is down</source>
        <translation>Upstream %1 is down</translation>
    </message>
    <message>
        <source>It failed several times (%1); other keys take its requests.</source>
        <translation>It failed several times (%1); other keys take its requests.</translation>
    </message>
    <message>
        <source>&amp;Connect an app…</source>
        <translation>&amp;Connect an app…</translation>
    </message>
    <message>
        <source>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</source>
        <translation>Settings to copy for Claude Code, Codex, the OpenAI SDKs and other apps</translation>
    </message>
    <message>
        <source>openai-api-route — %1
%2
%3 requests in the last minute · $%4 today (UTC)</source>
        <translation>openai-api-route — %1
%2
%3 requests in the last minute · $%4 today (UTC)</translation>
    </message>
    <message>
        <source>%1 reached a limit</source>
        <translation>%1 reached a limit</translation>
    </message>
</context>
<context>
    <name>route::UpstreamCall</name>
    <message>
        <source>the upstream's response headers are too large</source>
        <translation>the upstream's response headers are too large</translation>
    </message>
    <message>
        <source>the upstream did not answer with HTTP/1.x</source>
        <translation>the upstream did not answer with HTTP/1.x</translation>
    </message>
    <message>
        <source>the upstream's response is ambiguous or malformed (%1)</source>
        <translation>the upstream's response is ambiguous or malformed (%1)</translation>
    </message>
    <message>
        <source>the upstream sent a malformed chunk</source>
        <translation>the upstream sent a malformed chunk</translation>
    </message>
    <message>
        <source>the upstream closed the connection mid-response</source>
        <translation>the upstream closed the connection mid-response</translation>
    </message>
    <message>
        <source>the upstream closed the connection without an answer</source>
        <translation>the upstream closed the connection without an answer</translation>
    </message>
</context>
<context>
    <name>route::UpstreamProbe</name>
    <message>
        <source>no answer within %1 s</source>
        <translation>no answer within %1 s</translation>
    </message>
    <message>
        <source>invalid endpoint %1</source>
        <translation>invalid endpoint %1</translation>
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
        <translation>healthy</translation>
    </message>
    <message>
        <source>rate limited</source>
        <translation>rate limited</translation>
    </message>
    <message>
        <source>key rejected</source>
        <translation>key rejected</translation>
    </message>
    <message>
        <source>resting</source>
        <translation>resting</translation>
    </message>
    <message>
        <source>probing</source>
        <translation>probing</translation>
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
        <translation>Name</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpoint</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API key</translation>
    </message>
    <message>
        <source>On</source>
        <translation>On</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Weight</translation>
    </message>
    <message>
        <source>Only models</source>
        <translation>Only models</translation>
    </message>
    <message>
        <source>Never models</source>
        <translation>Never models</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>Health</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Failed</translation>
    </message>
    <message>
        <source>Last success</source>
        <translation>Last success</translation>
    </message>
    <message>
        <source>Disabled upstreams get no requests</source>
        <translation>Disabled upstreams get no requests</translation>
    </message>
    <message>
        <source>Share of requests with the weighted policy</source>
        <translation>Share of requests with the weighted policy</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key may serve; empty = all. A trailing * matches any suffix.</source>
        <translation>Comma-separated models (or /v1/ paths) this key may serve; empty = all. A trailing * matches any suffix.</translation>
    </message>
    <message>
        <source>Comma-separated models (or /v1/ paths) this key must never serve</source>
        <translation>Comma-separated models (or /v1/ paths) this key must never serve</translation>
    </message>
    <message>
        <source>Live state: healthy, rate limited, key rejected, resting after failures, or probing</source>
        <translation>Live state: healthy, rate limited, key rejected, resting after failures, or probing</translation>
    </message>
    <message>
        <source>The API is openai or anthropic.</source>
        <translation>The API is openai or anthropic.</translation>
    </message>
    <message>
        <source>API</source>
        <translation>API</translation>
    </message>
    <message>
        <source>openai: Chat Completions, Responses and the rest of /v1; anthropic: Messages (Claude Code)</source>
        <translation>openai: Chat Completions, Responses and the rest of /v1; anthropic: Messages (Claude Code)</translation>
    </message>
    <message>
        <source>Responses</source>
        <translation>Responses</translation>
    </message>
    <message>
        <source>Checked: the upstream serves /v1/responses itself. Unchecked: Responses requests (Codex) are converted to Chat Completions for it</source>
        <translation>Checked: the upstream serves /v1/responses itself. Unchecked: Responses requests (Codex) are converted to Chat Completions for it</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>failed</translation>
    </message>
    <message>
        <source>%1 (stale)</source>
        <translation>%1 (stale)</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), fetched %1</source>
        <translation><numerusform>%n model, fetched %1</numerusform><numerusform>%n models, fetched %1</numerusform></translation>
    </message>
    <message>
        <source>The model list was not fetched yet</source>
        <translation>The model list was not fetched yet</translation>
    </message>
    <message>
        <source>Last fetch failed: %1</source>
        <translation>Last fetch failed: %1</translation>
    </message>
    <message numerus="yes">
        <source>  … and %n more</source>
        <translation><numerusform>  … and %n more</numerusform><numerusform>  … and %n more</numerusform></translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Models</translation>
    </message>
    <message>
        <source>Aliases</source>
        <translation>Aliases</translation>
    </message>
    <message>
        <source>Proxy</source>
        <translation>Proxy</translation>
    </message>
    <message>
        <source>How many models the upstream listed when last asked; hover for the list, double-click to edit aliases and the allowed models</source>
        <translation>How many models the upstream listed when last asked; hover for the list, double-click to edit aliases and the allowed models</translation>
    </message>
    <message>
        <source>Model aliases: the name a client asks for → the name this upstream gets; double-click to edit</source>
        <translation>Model aliases: the name a client asks for → the name this upstream gets; double-click to edit</translation>
    </message>
    <message>
        <source>http://host:port or socks5://host:port (user:password@ allowed), direct, or empty for the system's HTTPS_PROXY / ALL_PROXY</source>
        <translation>http://host:port or socks5://host:port (user:password@ allowed), direct, or empty for the system's HTTPS_PROXY / ALL_PROXY</translation>
    </message>
</context>
<context>
    <name>route::UpstreamsPage</name>
    <message>
        <source>No upstreams yet. Click &lt;b&gt;Add…&lt;/b&gt; and paste an API key; every client then uses this proxy's base URL and token instead.</source>
        <translation>No upstreams yet. Click &lt;b&gt;Add…&lt;/b&gt; and paste an API key; every client then uses this proxy's base URL and token instead.</translation>
    </message>
    <message>
        <source>&amp;Add…</source>
        <translation>&amp;Add…</translation>
    </message>
    <message>
        <source>Add an API key (Ctrl+N)</source>
        <translation>Add an API key (Ctrl+N)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Delete</translation>
    </message>
    <message>
        <source>Delete the selected upstream (Del)</source>
        <translation>Delete the selected upstream (Del)</translation>
    </message>
    <message>
        <source>&amp;Test key</source>
        <translation>&amp;Test key</translation>
    </message>
    <message>
        <source>Ask the upstream for its models with this key; costs no tokens (Ctrl+T)</source>
        <translation>Ask the upstream for its models with this key; costs no tokens (Ctrl+T)</translation>
    </message>
    <message>
        <source>Move &amp;up</source>
        <translation>Move &amp;up</translation>
    </message>
    <message>
        <source>Try this upstream earlier with the order policy (Ctrl+Up)</source>
        <translation>Try this upstream earlier with the order policy (Ctrl+Up)</translation>
    </message>
    <message>
        <source>Move do&amp;wn</source>
        <translation>Move do&amp;wn</translation>
    </message>
    <message>
        <source>Try this upstream later with the order policy (Ctrl+Down)</source>
        <translation>Try this upstream later with the order policy (Ctrl+Down)</translation>
    </message>
    <message>
        <source>&amp;Reveal keys</source>
        <translation>&amp;Reveal keys</translation>
    </message>
    <message>
        <source>Show the API keys in full (and make them editable)</source>
        <translation>Show the API keys in full (and make them editable)</translation>
    </message>
    <message>
        <source>Added upstream %1.</source>
        <translation>Added upstream %1.</translation>
    </message>
    <message>
        <source>Delete upstream</source>
        <translation>Delete upstream</translation>
    </message>
    <message>
        <source>Delete upstream %1? Its key is removed from the database.</source>
        <translation>Delete upstream %1? Its key is removed from the database.</translation>
    </message>
    <message>
        <source>Testing upstream %1…</source>
        <translation>Testing upstream %1…</translation>
    </message>
    <message>
        <source>Upstream %1 works: %2 ms, %3 models.</source>
        <translation>Upstream %1 works: %2 ms, %3 models.</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message>
        <source>Upstream %1 failed the test: %2</source>
        <translation>Upstream %1 failed the test: %2</translation>
    </message>
    <message>
        <source>&amp;Fetch models</source>
        <translation>&amp;Fetch models</translation>
    </message>
    <message>
        <source>Ask the selected upstream (or all, when none is selected) for its model list (F5)</source>
        <translation>Ask the selected upstream (or all, when none is selected) for its model list (F5)</translation>
    </message>
    <message>
        <source>&amp;Models…</source>
        <translation>&amp;Models…</translation>
    </message>
    <message>
        <source>Fetching the model lists…</source>
        <translation>Fetching the model lists…</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Model lists fetched.</source>
        <translation>Model lists fetched.</translation>
    </message>
    <message>
        <source>These upstreams did not list their models: %1</source>
        <translation>These upstreams did not list their models: %1</translation>
    </message>
    <message>
        <source>Saved the models of upstream %1.</source>
        <translation>Saved the models of upstream %1.</translation>
    </message>
    <message>
        <source>The selected upstream's models, aliases and allowed models (Ctrl+M)</source>
        <translation>The selected upstream's models, aliases and allowed models (Ctrl+M)</translation>
    </message>
</context>
<context>
    <name>route::UsageChart</name>
    <message>
        <source>No requests in this period</source>
        <translation>No requests in this period</translation>
    </message>
</context>
<context>
    <name>route::UsagePage</name>
    <message>
        <source>Last 7 days</source>
        <translation>Last 7 days</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>Last 30 days</translation>
    </message>
    <message>
        <source>Last 90 days</source>
        <translation>Last 90 days</translation>
    </message>
    <message>
        <source>Last 365 days</source>
        <translation>Last 365 days</translation>
    </message>
    <message>
        <source>by app</source>
        <translation>by app</translation>
    </message>
    <message>
        <source>by app token</source>
        <translation>by app token</translation>
    </message>
    <message>
        <source>by upstream</source>
        <translation>by upstream</translation>
    </message>
    <message>
        <source>by model</source>
        <translation>by model</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Refresh</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Key</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Requests</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>Errors</translation>
    </message>
    <message>
        <source>Input tokens</source>
        <translation>Input tokens</translation>
    </message>
    <message>
        <source>of them cached</source>
        <translation>of them cached</translation>
    </message>
    <message>
        <source>Output tokens</source>
        <translation>Output tokens</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Cost</translation>
    </message>
    <message>
        <source>Cost per day (UTC)</source>
        <translation>Cost per day (UTC)</translation>
    </message>
    <message>
        <source>Tokens per day (input and output)</source>
        <translation>Tokens per day (input and output)</translation>
    </message>
    <message>
        <source>seed token</source>
        <translation>seed token</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>(unknown)</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <source>upstream %1</source>
        <translation>upstream %1</translation>
    </message>
    <message>
        <source>other</source>
        <translation>other</translation>
    </message>
    <message>
        <source>%L1 requests, %2 from %3 to %4</source>
        <translation>%L1 requests, %2 from %3 to %4</translation>
    </message>
</context>
<context>
    <name>route::WebhookNotifier</name>
    <message>
        <source>openai-api-route: upstream %1 (%2, key %3) is down: %4</source>
        <translation>openai-api-route: upstream %1 (%2, key %3) is down: %4</translation>
    </message>
    <message>
        <source>openai-api-route: upstream %1 (%2, key %3) answers again</source>
        <translation>openai-api-route: upstream %1 (%2, key %3) answers again</translation>
    </message>
    <message>
        <source>openai-api-route: all %1 upstreams are down</source>
        <translation>openai-api-route: all %1 upstreams are down</translation>
    </message>
</context>
</TS>