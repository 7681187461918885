-- perfgo.stats against values computed by hand (worked out in the
-- comments), for the conventions benchstat uses: median, the order
-- statistics of its 95% interval, the Mann-Whitney U test.
local stats = require "perfgo.stats"

local function near(expected, got, tol)
  assert(math.abs(expected - got) <= (tol or 1e-12),
    string.format("expected %.17g, got %.17g", expected, got))
end

local function range(a, b)
  local out = {}
  for v = a, b do out[#out + 1] = v end
  return out
end

describe("stats.median", function()
  it("is the middle value, or the mean of the two middle values", function()
    assert.equal(2, stats.median({ 3, 1, 2 }))
    assert.equal(2.5, stats.median({ 4, 1, 3, 2 }))
    assert.equal(7, stats.median({ 7 }))
    assert.is_nil(stats.median({}))
  end)
end)

describe("stats.summary (median and its 95% interval)", function()
  it("bounds 6 values by the smallest and the largest (level 62/64)", function()
    -- Binomial(6, 1/2) x 64: 1 6 15 20 15 6 1; from the mode outwards the
    -- mass reaches 62/64 = 0.96875 at orders 1..6
    local s = stats.summary({ 12, 10, 15, 11, 13, 14 })
    assert.equal(12.5, s.center)
    assert.equal(10, s.lo)
    assert.equal(15, s.hi)
    near(62 / 64, s.confidence)
    assert.same({}, s.warnings)
    assert.equal("20%", stats.pct_range(s)) -- max(15/12.5-1, 1-10/12.5)
  end)

  it("is unbounded below for 5 values, with the note benchstat prints", function()
    -- x 32: 1 5 10 10 5 1; 31/32 needs order 0 on the left
    local s = stats.summary({ 1, 2, 3, 4, 5 })
    assert.equal(3, s.center)
    assert.equal(-math.huge, s.lo)
    assert.equal(5, s.hi)
    assert.equal("∞", stats.pct_range(s))
    assert.same({ "need >= 6 samples for confidence interval at level 0.95" }, s.warnings)
  end)

  it("takes orders 2 and 9 of 10 values (level 1002/1024)", function()
    -- x 1024: 1 10 45 120 210 252 210 120 45 10 1; 957 < 972.8 <= 1002
    local s = stats.summary(range(1, 10))
    assert.equal(5.5, s.center)
    assert.equal(2, s.lo)
    assert.equal(9, s.hi)
    near(1002 / 1024, s.confidence)
  end)

  it("takes orders 8 and 18 of 24 values, as benchstat does", function()
    -- orders 7..17 and 8..18 hold the same mass; benchstat's rounding
    -- picks the right one
    local s = stats.summary(range(1, 24))
    assert.equal(8, s.lo)
    assert.equal(18, s.hi)
  end)

  it("uses the normal approximation above 30 values: orders 40 and 60 of 100", function()
    -- l1 = 50 - 1.96*5 = 40.2 -> order 40; r1 = 59.8 -> 61, and the
    -- left-biased [40, 60) still holds 0.953 >= 0.95
    local s = stats.summary(range(1, 100))
    assert.equal(40, s.lo)
    assert.equal(60, s.hi)
    near(stats.normal_cdf(1.9) - stats.normal_cdf(-2.1), s.confidence, 1e-12)
  end)

  it("prints ? when the interval crosses zero, 0% for an all-zero sample", function()
    assert.equal("?", stats.pct_range(stats.summary({ -3, -1, 0, 1, 2, 4 })))
    assert.equal("0%", stats.pct_range(stats.summary({ 0, 0, 0, 0, 0, 0 })))
  end)
end)

describe("stats.normal_cdf and normal_inv_cdf", function()
  it("agree with tabulated values", function()
    near(0.9750021048517795, stats.normal_cdf(1.96), 1e-14)
    near(0.15865525393145707, stats.normal_cdf(-1), 1e-14)
    near(0.5, stats.normal_cdf(0), 1e-15)
    near(1.959963984540054, stats.normal_inv_cdf(0.975), 1e-12)
    near(-2.3263478740408408, stats.normal_inv_cdf(0.01), 1e-12)
  end)
end)

describe("stats.u_test", function()
  it("gives 2/C(10,5) for two separated samples of 5", function()
    local r = stats.u_test({ 1, 2, 3, 4, 5 }, { 6, 7, 8, 9, 10 })
    assert.equal(0, r.u)
    near(2 / 252, r.p)
    assert.is_true(r.exact)
  end)

  it("gives 2*87/252 for interleaved samples of 5 (not significant)", function()
    -- U1 = 0+1+2+3+4 = 10; the number of arrangements with U <= 10 is
    -- the sum of the Gaussian binomial [10 5] coefficients 1 1 2 3 5 7 9
    -- 11 14 16 18 = 87
    local r = stats.u_test({ 1, 3, 5, 7, 9 }, { 2, 4, 6, 8, 10 })
    assert.equal(10, r.u)
    near(174 / 252, r.p)
  end)

  it("is 1 when U sits in the middle", function()
    assert.equal(1, stats.u_test({ 1, 4 }, { 2, 3 }).p)
  end)

  it("counts ties as one half and uses their exact distribution", function()
    -- groups of 2 at the values 1, 2, 3; U1 = 0.5 (the tie at 2). Of the
    -- C(6,3) = 20 draws only (2 from the 1s, 1 from the 2s) has 2U <= 1,
    -- in C(2,2)*C(2,1) = 2 ways: p = 2*2/20
    local r = stats.u_test({ 1, 1, 2 }, { 2, 3, 3 })
    assert.equal(0.5, r.u)
    near(0.2, r.p)
  end)

  it("uses the normal approximation above 50 values a side", function()
    -- U1 = 0, mu = 30*60/2 = 900, sigma = sqrt(30*60*91/12),
    -- z = (-900 + 0.5)/sigma
    local r = stats.u_test(range(1, 30), range(31, 90))
    assert.is_false(r.exact)
    local z = -899.5 / math.sqrt(30 * 60 * 91 / 12)
    near(2 * stats.normal_cdf(z), r.p, 1e-20)
    assert.is_true(r.p < 1e-12)
  end)

  it("refuses empty and all-equal samples", function()
    assert.same({ nil, "sample is too small" }, { stats.u_test({}, { 1 }) })
    assert.same({ nil, "all samples are equal" }, { stats.u_test({ 2, 2 }, { 2, 2, 2 }) })
  end)
end)

describe("stats.compare and its formatting", function()
  it("marks a significant change with its percentage", function()
    local old, new = { 10, 11, 12, 13, 14 }, { 20, 21, 22, 23, 24 }
    local c = stats.compare(old, new)
    assert.is_true(c.significant)
    assert.equal("+83.33%", stats.format_delta(c, stats.median(old), stats.median(new)))
    assert.equal("p=0.008 n=5", stats.format_comparison(c))
    assert.same({}, c.warnings)
  end)

  it("prints ~ for a change that is not significant", function()
    local c = stats.compare({ 1, 3, 5, 7, 9 }, { 2, 4, 6, 8, 10 })
    assert.is_false(c.significant)
    assert.equal("~", stats.format_delta(c, 5, 6))
    assert.equal("p=0.690 n=5", stats.format_comparison(c))
  end)

  it("notes samples too small to ever be significant", function()
    -- the least p of two samples of 3 is 2/C(6,3) = 0.1; of 4, 2/70
    local c = stats.compare({ 1, 2, 3 }, { 4, 5, 6, 7 })
    near(2 / 35, c.p)
    assert.same({}, c.warnings) -- benchstat notes it only when both sides have fewer than 4
    c = stats.compare({ 1, 2, 3 }, { 4, 5, 6 })
    near(0.1, c.p)
    assert.equal("p=0.100 n=3", stats.format_comparison(c))
    assert.same({ "need >= 4 samples to detect a difference at alpha level 0.05" }, c.warnings)
  end)

  it("reports all-equal samples as no change", function()
    local c = stats.compare({ 5, 5, 5 }, { 5, 5 })
    assert.equal(1, c.p)
    assert.equal("~", stats.format_delta(c, 5, 5))
    assert.equal("p=1.000 n=3+2", stats.format_comparison(c))
    assert.same({ "all samples are equal" }, c.warnings)
  end)

  it("prints 0.00% for equal medians and ? from zero", function()
    local sig = { significant = true }
    assert.equal("0.00%", stats.format_delta(sig, 4, 4))
    assert.equal("?", stats.format_delta(sig, 0, 4))
    assert.equal("-50.00%", stats.format_delta(sig, 4, 2))
  end)
end)
