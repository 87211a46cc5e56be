-- wrk script of bench/load.sh: sends one kind of request and counts only
-- the answers that did the full work (the expected status, and Location
-- when one is expected). Driven by environment variables:
--   WRK_METHOD   GET (default) or POST
--   WRK_BODY     the form body; {rand} becomes a fresh random token
--   WRK_ACCEPT   the Accept header (default text/html: a browser without JavaScript)
--   WRK_SPREAD   1: a random X-Forwarded-For per request (10.0.0.0/8), so
--                per-address limits see many clients (sspr trusts 127.0.0.1)
--   WRK_EXPECT   the status of a full answer (default 200)
--   WRK_LOCATION a text the Location of a full answer contains
--   WRK_SAVE     a cookie name: each full answer's cookie of that name is
--                appended to WRK_COOKIES.<thread> (flows for a later run)
--   WRK_COOKIES  a file of saved cookies, one per line: each request
--                sends the next unused one (WRK_THREADS threads share it)
-- done() prints one line: RESULT key=value ...

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

function init(args)
  method = env("WRK_METHOD", "GET")
  body = env("WRK_BODY", nil)
  spread = env("WRK_SPREAD", "0") == "1"
  expect = tonumber(env("WRK_EXPECT", "200"))
  location = env("WRK_LOCATION", nil)
  save = env("WRK_SAVE", nil)
  good, ran_out, statuses = 0, 0, {}
  math.randomseed(os.time() * 7919 + id)
  wrk.method = method
  wrk.headers["Accept"] = env("WRK_ACCEPT", "text/html")
  if method == "POST" then
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.headers["Sec-Fetch-Site"] = "same-origin"
  end
  cookies, next_cookie = {}, 1
  local file = env("WRK_COOKIES", nil)
  if file then
    local threads_n = tonumber(env("WRK_THREADS", "1"))
    local i = 0
    for line in io.lines(file) do
      if i % threads_n == id - 1 then table.insert(cookies, line) end
      i = i + 1
    end
  end
  if save then out = io.open(env("WRK_COOKIES_OUT", "/tmp/wrk-cookies") .. "." .. id, "w") end
end

local function token()
  return string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

function request()
  if spread then
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  if #cookies > 0 then
    if next_cookie <= #cookies then
      wrk.headers["Cookie"] = cookies[next_cookie]
      next_cookie = next_cookie + 1
    else
      wrk.headers["Cookie"] = nil
      ran_out = ran_out + 1
    end
  end
  local b = body and body:gsub("{rand}", token()) or nil
  return wrk.format(nil, nil, nil, b)
end

function response(status, headers, _)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= expect then return end
  if location then
    local l = headers["location"] or headers["Location"] or ""
    if not l:find(location, 1, true) then return end
  end
  good = good + 1
  if out then
    local c = headers["set-cookie"] or headers["Set-Cookie"] or ""
    local v = c:match(save .. "=([^;]+)")
    if v then out:write(save .. "=" .. v .. "\n") out:flush() end
  end
end

function done(summary, latency, _)
  local total_good, total_ran_out, all = 0, 0, {}
  for _, t in ipairs(threads) do
    total_good = total_good + t:get("good")
    total_ran_out = total_ran_out + t:get("ran_out")
    for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, k .. ":" .. v) end
  table.sort(parts)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f good_rps=%.1f requests=%d good=%d socket_errors=%d ran_out=%d p50_ms=%.2f p99_ms=%.2f statuses=%s\n",
    summary.requests / secs, total_good / secs, summary.requests, total_good,
    e.connect + e.read + e.write + e.timeout, total_ran_out,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, table.concat(parts, ",")))
end
