-- perfgo.errors: user errors, and the escaping of text from inputs that
-- messages quote.
local errors = require "perfgo.errors"

describe("perfgo.errors.escape", function()
  it("leaves printable text alone, UTF-8 included", function()
    for _, s in ipairs({ "", "plain text", "été", "€ 5", "a;b:c (x) [y]" }) do
      assert.equals(s, errors.escape(s))
    end
  end)

  it("shows control characters, C1 controls and bytes that are not UTF-8 escaped", function()
    assert.equals("a\\e[31mred\\e[0m", errors.escape("a\27[31mred\27[0m"))
    assert.equals("\\e]0;title\\x07", errors.escape("\27]0;title\7"))
    assert.equals("tab\\there\\r\\n", errors.escape("tab\there\r\n"))
    assert.equals("csi\\u009b2J", errors.escape("csi\194\1552J"))
    assert.equals("bad\\xffbyte\\x80", errors.escape("bad\255byte\128"))
    assert.equals("del\\x7f", errors.escape("del\127"))
    assert.equals("two\nlines\\e", errors.escape("two\nlines\27", true))
    assert.equals("42", errors.escape(42))
  end)

  it("escapes a user error's message when it is made, newlines apart", function()
    local e = errors.new("cannot read /tmp/x\27[2J:\nsecond line")
    assert.equals("cannot read /tmp/x\\e[2J:\nsecond line", e.message)
  end)
end)
