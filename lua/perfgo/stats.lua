--- Statistics for comparing benchmark results, with the conventions of
--- benchstat (golang.org/x/perf/cmd/benchstat), so that the numbers agree
--- with it on the same files:
---
---   * a sample is summarized by its median and a 95% confidence interval
---     of the median from order statistics (exact binomial for up to 30
---     values, a normal approximation beyond); an interval that falls
---     outside the sample is infinite, with a note of how many samples a
---     finite one needs (6 at 95%);
---   * two samples are compared with the two-sided Mann-Whitney U test:
---     the exact distribution of U (ties counted as one half) for up to 50
---     values a side, 25 with ties, else the normal approximation with tie
---     and continuity corrections;
---   * a change is significant when p <= alpha (0.05); otherwise it reads
---     "~", with a note when the samples are too small for any difference
---     to reach significance (4 a side at 0.05).
local M = {}

M.CONFIDENCE = 0.95
M.ALPHA = 0.05

local EXACT_LIMIT, TIES_EXACT_LIMIT, CI_EXACT_LIMIT = 50, 25, 30

local function sorted_copy(xs)
  local out = {}
  for i, v in ipairs(xs) do
    assert(type(v) == "number", "stats: sample values must be numbers")
    out[i] = v
  end
  table.sort(out)
  return out
end

--- The median of a list of numbers (the mean of the two middle values
--- for an even count); nil for an empty list.
---@param xs number[]
---@return number|nil
function M.median(xs)
  local s = sorted_copy(xs)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return s[n // 2] + (s[n // 2 + 1] - s[n // 2]) / 2
end

-- Binomial coefficient n choose k as a float.
local function choose(n, k)
  if k < 0 or k > n then return 0 end
  if k > n - k then k = n - k end
  local r = 1.0
  for i = 1, k do r = r * (n - k + i) / i end
  return r
end
M.choose = choose

-- The regularized lower incomplete gamma function P(a, x), by its series
-- below a+1 and its continued fraction above.
local function gamma_p(a, x)
  if x <= 0 then return 0 end
  local lg = select(1, M.lgamma(a))
  if x < a + 1 then
    local sum, term, ap = 1 / a, 1 / a, a
    for _ = 1, 1000 do
      ap = ap + 1
      term = term * x / ap
      sum = sum + term
      if math.abs(term) < math.abs(sum) * 1e-17 then break end
    end
    return sum * math.exp(-x + a * math.log(x) - lg)
  end
  local tiny = 1e-300
  local b = x + 1 - a
  local c, d = 1 / tiny, 1 / b
  local h = d
  for i = 1, 1000 do
    local an = -i * (i - a)
    b = b + 2
    d = an * d + b
    if math.abs(d) < tiny then d = tiny end
    c = b + an / c
    if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    local del = d * c
    h = h * del
    if math.abs(del - 1) < 1e-17 then break end
  end
  return 1 - math.exp(-x + a * math.log(x) - lg) * h
end

--- log(Gamma(x)) for x > 0 (Lanczos approximation, g = 7).
---@param x number
---@return number
function M.lgamma(x)
  local coef = { 0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7 }
  if x < 0.5 then
    return math.log(math.pi / math.abs(math.sin(math.pi * x))) - M.lgamma(1 - x)
  end
  x = x - 1
  local a = coef[1]
  local t = x + 7.5
  for i = 2, 9 do a = a + coef[i] / (x + i - 1) end
  return 0.5 * math.log(2 * math.pi) + (x + 0.5) * math.log(t) - t + math.log(a)
end

--- The standard normal distribution's CDF.
---@param z number
---@return number
function M.normal_cdf(z)
  -- Phi(z) = (1 + erf(z/sqrt2))/2, erf(x) = P(1/2, x^2)
  local e = gamma_p(0.5, z * z / 2)
  if z >= 0 then return 0.5 + e / 2 end
  return 0.5 - e / 2
end

--- The inverse of the standard normal CDF (Acklam's rational
--- approximation, refined by one Halley step on normal_cdf).
---@param p number in (0, 1)
---@return number
function M.normal_inv_cdf(p)
  if p <= 0 then return -math.huge end
  if p >= 1 then return math.huge end
  local a = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 }
  local b = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
    6.680131188771972e+01, -1.328068155288572e+01 }
  local c = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 }
  local d = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
    3.754408661907416e+00 }
  local lo = 0.02425
  local x
  if p < lo then
    local q = math.sqrt(-2 * math.log(p))
    x = (((((c[1] * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) * q + c[6])
      / ((((d[1] * q + d[2]) * q + d[3]) * q + d[4]) * q + 1)
  elseif p <= 1 - lo then
    local q = p - 0.5
    local r = q * q
    x = (((((a[1] * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * r + a[6]) * q
      / (((((b[1] * r + b[2]) * r + b[3]) * r + b[4]) * r + b[5]) * r + 1)
  else
    local q = math.sqrt(-2 * math.log(1 - p))
    x = -(((((c[1] * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) * q + c[6])
      / ((((d[1] * q + d[2]) * q + d[3]) * q + d[4]) * q + 1)
  end
  local e = M.normal_cdf(x) - p
  local u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
  return x - u / (1 + x * u / 2)
end

-- The order statistics (1-based; 0 or n+1 = unbounded) that bound the
-- confidence interval of the median of n values, and its actual level.
local function median_ci_orders(n, confidence)
  if n == 24 and confidence == 0.95 then
    -- Two intervals, orders 7..17 and 8..18, hold exactly the same mass.
    -- benchstat computes binomial coefficients above 20 through
    -- floating-point log-gamma, and its rounding makes it take the right
    -- one here (the only such case at 95%): do the same, so that the
    -- intervals agree.
    return 8, 18, 0.9567147493362336
  end
  if n <= CI_EXACT_LIMIT then
    -- k values below the population median: Binomial(n, 1/2). Start at
    -- the (lower) mode and add the more likely neighbour, the left one
    -- on a tie, until the mass reaches the confidence.
    local function pmf(k)
      if k < 0 or k > n then return 0 end
      return choose(n, k) / 2 ^ n
    end
    local x = math.ceil((n + 1) * 0.5) - 1
    local l, r = x, x + 1
    local acc = pmf(x)
    local lp, rp = pmf(l - 1), pmf(r)
    while acc < confidence and (lp > 0 or rp > 0) do
      if lp >= rp then
        acc = acc + lp
        l = l - 1
        lp = pmf(l - 1)
      else
        acc = acc + rp
        r = r + 1
        rp = pmf(r)
      end
    end
    return math.max(l, 0), math.min(r, n + 1), acc
  end
  -- normal approximation of Binomial(n, 1/2) with continuity correction
  local mu, sigma = n / 2, math.sqrt(n) / 2
  local l1 = mu + sigma * M.normal_inv_cdf((1 - confidence) / 2)
  local r1 = 2 * mu - l1
  local l = math.floor(math.floor(l1 - 0.5) + 0.5) + 1
  local r = math.floor(math.ceil(r1 - 0.5) + 0.5) + 1
  local function mass(a, b)
    return M.normal_cdf((b - 0.5 - mu) / sigma) - M.normal_cdf((a - 0.5 - mu) / sigma)
  end
  local level = mass(l, r)
  local biased = mass(l, r - 1)
  if biased >= confidence and biased < level then
    level, r = biased, r - 1
  end
  if l <= 0 and r >= n + 1 then level = 1 end
  return math.max(l, 0), math.min(r, n + 1), level
end

-- The smallest sample with a finite interval at this confidence.
local function ci_samples(confidence)
  for n = 2, 50 do
    local lo, hi = median_ci_orders(n, confidence)
    if lo > 0 and hi <= n then return ">= " .. n end
  end
  return "> 50"
end

---@class perfgo.StatsSummary
---@field center number the median
---@field lo number lower bound of the confidence interval (-inf when unbounded)
---@field hi number upper bound (+inf when unbounded)
---@field confidence number the interval's actual level (>= the one asked for)
---@field n integer
---@field warnings string[]

--- The median of xs with its confidence interval.
---@param xs number[] at least one value
---@param confidence? number default 0.95
---@return perfgo.StatsSummary
function M.summary(xs, confidence)
  confidence = confidence or M.CONFIDENCE
  local s = sorted_copy(xs)
  local n = #s
  assert(n > 0, "stats.summary: empty sample")
  local lo_order, hi_order, level = median_ci_orders(n, confidence)
  local out = {
    center = M.median(s), n = n, confidence = level, warnings = {},
    lo = lo_order >= 1 and s[lo_order] or -math.huge,
    hi = hi_order <= n and s[hi_order] or math.huge,
  }
  if out.lo == -math.huge or out.hi == math.huge then
    out.warnings[1] = string.format("need %s samples for confidence interval at level %s",
      ci_samples(confidence), M.number(confidence))
  end
  return out
end

--- The half-width of a summary's interval relative to its median, as
--- benchstat prints it after "±": "3%", "∞" when unbounded, "?" when the
--- bounds and the median differ in sign.
---@param s perfgo.StatsSummary
---@return string
function M.pct_range(s)
  if s.lo == -math.huge or s.hi == math.huge then return "∞" end
  local function sign(v) return v > 0 and 1 or v < 0 and -1 or 0 end
  local c = sign(s.center)
  if c ~= sign(s.lo) or c ~= sign(s.hi) then return "?" end
  if s.center == 0 then return "0%" end
  local v = math.max(s.hi / s.center - 1, 1 - s.lo / s.center)
  return string.format("%.0f%%", 100 * v)
end

-- The weighted number of ways to draw n1 of the pooled values (tie
-- groups t[1..K], ascending) such that twice the U statistic of the
-- drawn ones is at most limit2u. A group with r of its t values drawn
-- adds r * (values of the other sample below it) + r*(t-r)/2 to U.
local function u_count_at_most(t, n1, limit2u)
  local dp = { [0] = { [0] = 1.0 } } -- dp[drawn][twoU] = ways
  local before = 0                     -- values in the groups so far
  for _, tk in ipairs(t) do
    local next_dp = {}
    for drawn, row in pairs(dp) do
      local others_below = before - drawn
      for r = 0, math.min(tk, n1 - drawn) do
        local add = 2 * r * others_below + r * (tk - r)
        local ways = choose(tk, r)
        local j = drawn + r
        local target = next_dp[j]
        for u2, w in pairs(row) do
          local v = u2 + add
          if v <= limit2u then
            if not target then target = {}; next_dp[j] = target end
            target[v] = (target[v] or 0) + w * ways
          end
        end
      end
    end
    dp = next_dp
    before = before + tk
  end
  local total = 0.0
  for _, w in pairs(dp[n1] or {}) do total = total + w end
  return total
end

---@class perfgo.UTestResult
---@field u number U of the first sample (pairs where it is greater, ties 1/2)
---@field p number two-sided p-value
---@field n1 integer
---@field n2 integer
---@field exact boolean the exact distribution was used

--- The two-sided Mann-Whitney U test of x1 against x2; nil and a reason
--- ("sample is too small", "all samples are equal") when it cannot be
--- computed.
---@param x1 number[]
---@param x2 number[]
---@return perfgo.UTestResult|nil, string?
function M.u_test(x1, x2)
  local n1, n2 = #x1, #x2
  if n1 == 0 or n2 == 0 then return nil, "sample is too small" end
  local pooled = {}
  for _, v in ipairs(sorted_copy(x1)) do pooled[#pooled + 1] = { v, 1 } end
  for _, v in ipairs(sorted_copy(x2)) do pooled[#pooled + 1] = { v, 2 } end
  table.sort(pooled, function(a, b) return a[1] < b[1] end)
  -- rank sum of the first sample with average ranks for ties, and the
  -- tie groups
  local r1, ties, has_ties = 0.0, {}, false
  local i, n = 1, #pooled
  while i <= n do
    local j, from1 = i, 0
    while j <= n and pooled[j][1] == pooled[i][1] do
      if pooled[j][2] == 1 then from1 = from1 + 1 end
      j = j + 1
    end
    local size = j - i
    r1 = r1 + from1 * (i + j - 1) / 2
    ties[#ties + 1] = size
    if size > 1 then has_ties = true end
    i = j
  end
  local u1 = r1 - n1 * (n1 + 1) / 2
  local u2 = n1 * n2 - u1
  local usmall = math.min(u1, u2)
  local res = { u = u1, n1 = n1, n2 = n2 }
  local exact = (not has_ties and n1 <= EXACT_LIMIT and n2 <= EXACT_LIMIT)
    or (has_ties and n1 <= TIES_EXACT_LIMIT and n2 <= TIES_EXACT_LIMIT)
  if exact then
    if #ties == 1 then return nil, "all samples are equal" end
    res.exact = true
    if u1 == u2 then
      res.p = 1
    else
      res.p = 2 * u_count_at_most(ties, n1, math.floor(2 * usmall + 1e-9)) / choose(n1 + n2, n1)
    end
    return res
  end
  local tc = 0
  for _, tk in ipairs(ties) do tc = tc + tk * tk * tk - tk end
  local total = n1 + n2
  local sigma = math.sqrt(n1 * n2 * ((total + 1) - tc / (total * (total - 1))) / 12)
  if sigma == 0 then return nil, "all samples are equal" end
  local numer = u1 - n1 * n2 / 2
  if numer > 0 then numer = numer - 0.5 elseif numer < 0 then numer = numer + 0.5 end
  local z = numer / sigma
  local cdf = M.normal_cdf(z)
  res.exact = false
  res.p = 2 * math.min(cdf, 1 - cdf)
  return res
end

-- The smallest sample size (both sides) at which the U test can reach
-- significance at alpha: the least p of two samples of n is 2/C(2n, n).
local function u_test_samples(alpha)
  for n = 1, 9 do
    if 2 / choose(2 * n, n) <= alpha then return ">= " .. n, n end
  end
  return "> 9", 10
end

---@class perfgo.StatsComparison
---@field p number the U test's p-value (1 when it could not be computed)
---@field n1 integer
---@field n2 integer
---@field alpha number
---@field significant boolean p <= alpha
---@field warnings string[]

--- Compares two samples (old, new) with the U test.
---@param old number[]
---@param new number[]
---@param alpha? number default 0.05
---@return perfgo.StatsComparison
function M.compare(old, new, alpha)
  alpha = alpha or M.ALPHA
  local out = { n1 = #old, n2 = #new, alpha = alpha, warnings = {} }
  local res, why = M.u_test(old, new)
  if not res then
    out.p = 1
    out.warnings[1] = why
  else
    out.p = res.p
    if out.p > alpha then
      local need, k = u_test_samples(alpha)
      if out.n1 < k and out.n2 < k then
        out.warnings[1] = string.format("need %s samples to detect a difference at alpha level %s", need,
          M.number(alpha))
      end
    end
  end
  out.significant = out.p <= alpha
  return out
end

--- The change from old to new median as benchstat prints it: "~" when not
--- significant, "+1.23%" or "-4.56%", "0.00%" for equal medians, "?"
--- from a median of 0.
---@param cmp perfgo.StatsComparison
---@param old number the old median
---@param new number the new median
---@return string
function M.format_delta(cmp, old, new)
  if not cmp.significant then return "~" end
  if old == new then return "0.00%" end
  if old == 0 then return "?" end
  return string.format("%+.2f%%", (new / old - 1) * 100)
end

--- "p=0.008 n=5" or "p=0.310 n=5+4".
---@param cmp perfgo.StatsComparison
---@return string
function M.format_comparison(cmp)
  local n = cmp.n1 == cmp.n2 and tostring(cmp.n1) or string.format("%d+%d", cmp.n1, cmp.n2)
  return string.format("p=%.3f n=%s", cmp.p, n)
end

--- A number the shortest way that reads back the same (0.95, 0.05).
---@param v number
---@return string
function M.number(v)
  for digits = 1, 17 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return tostring(v)
end

return M
