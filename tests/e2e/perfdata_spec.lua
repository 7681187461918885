-- perf.data read natively against the text path, on recordings made here
-- with real perf: for each, `perfgo convert -i perf.data` and
-- `perf script --show-mmap-events | perfgo convert -i -` must give the same
-- folded stacks (default and with options), the same `go tool pprof -top
-- -lines` and the same totals. perf script's quirks that the text path
-- cannot undo (core/perfdata/convert.c) have a test each.
local t = require "testutil"

local LIBHOT_C = [[
unsigned long lib_spin(unsigned long n)
{
    unsigned long x = 1;
    for (unsigned long i = 0; i < n; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        x ^= x >> 17;
    }
    return x;
}
]]

local MAIN_C = [[
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

unsigned long lib_spin(unsigned long n);

__attribute__((noinline)) unsigned long main_spin(unsigned long n)
{
    unsigned long x = 7;
    for (unsigned long i = 0; i < n; i++)
        x = (x << 7) ^ (x >> 3) ^ i;
    return x;
}

int main(int argc, char **argv)
{
    unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    unsigned long s = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        s += lib_spin(100000) + main_spin(100000);
        if (r % 50 == 0)
            usleep(1000);
    }
    printf("%lu\n", s);
    return 0;
}
]]

-- C++ (a template, an operator, an anonymous namespace, libstdc++'s map)
-- and C functions named as Rust (legacy and v0) and OCaml name theirs,
-- for the names perf demangles.
local NAMES_CC = [[
#include <cstdio>
#include <cstdlib>
#include <map>
namespace ns {
template <typename T> struct Box {
    __attribute__((noinline)) T spin(T n) const
    {
        T x = 1;
        for (T i = 0; i < n; i++)
            x = x * 6364136223846793005UL + i;
        return x;
    }
};
struct Op {
    __attribute__((noinline)) unsigned long operator()(unsigned long n) const
    {
        unsigned long x = 3;
        for (unsigned long i = 0; i < n; i++)
            x ^= (x << 5) + i;
        return x;
    }
};
}
namespace {
__attribute__((noinline)) unsigned long anon_spin(unsigned long n)
{
    unsigned long x = 7;
    for (unsigned long i = 0; i < n; i++)
        x += x >> 3 ^ i;
    return x;
}
}
#define SPIN(fn, sym)                                                      \
    extern "C" unsigned long fn(unsigned long n) __asm__(sym);             \
    extern "C" __attribute__((noinline)) unsigned long fn(unsigned long n) \
    {                                                                      \
        unsigned long x = n;                                               \
        for (unsigned long i = 0; i < n; i++)                              \
            x = x * 2862933555777941757UL + i;                             \
        return x;                                                          \
    }
SPIN(rust_legacy, "_ZN7mycrate4spin17h0123456789abcdefE")
SPIN(rust_v0, "_RNvCs1234_7mycrate7v0_spin")
SPIN(ocaml_fn, "camlHot__spin_123")
int main(int argc, char **argv) {
    ns::Box<unsigned long> b; ns::Op op; unsigned long s = 0; std::map<int, int> m;
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    for (int r = 0; r < rounds; r++) {
        s += b.spin(300000) + op(300000) + anon_spin(300000);
        s += rust_legacy(300000) + rust_v0(300000) + ocaml_fn(300000);
        m[r] = r;
    }
    std::printf("%lu %zu\n", s, m.size());
}
]]

-- A header function inlined into a hot loop, for source lines.
local HOT_H = [[
static inline __attribute__((always_inline)) unsigned long mix(unsigned long x)
{
    x ^= x >> 13;
    x *= 0x9e3779b97f4a7c15UL;
    return x ^ (x >> 29);
}
]]

local SRC_C = [[
#include <stdio.h>
#include <stdlib.h>
#include "hot.h"
__attribute__((noinline)) unsigned long hot(unsigned long n)
{
    unsigned long x = 1;
    for (unsigned long i = 0; i < n; i++)
        x = mix(x + i) ^ i;
    return x;
}
int main(int argc, char **argv)
{
    unsigned long s = 0, rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
    for (unsigned long r = 0; r < rounds; r++)
        s += hot(1000000 + r);
    printf("%lu\n", s);
    return 0;
}
]]

-- A JIT: two functions copied into anonymous executable memory and named
-- in /tmp/perf-PID.map, as JITs name theirs for perf.
local JIT_C = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* mov rax, rdi; loop: dec rax; jnz loop; ret */
static const unsigned char SPIN[] = {0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3};

int main(int argc, char **argv)
{
    unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 1;
    memcpy(code, SPIN, sizeof SPIN);
    memcpy(code + 64, SPIN, sizeof SPIN);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
        return 1;
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "%lx %zx jit_spin_a\n%lx %zx Jit::spin_b(int)\n", (unsigned long)code, sizeof SPIN,
            (unsigned long)(code + 64), sizeof SPIN);
    fclose(f);
    unsigned long (*a)(unsigned long) = (unsigned long (*)(unsigned long))code;
    unsigned long (*b)(unsigned long) = (unsigned long (*)(unsigned long))(code + 64);
    unsigned long s = 0;
    for (unsigned long r = 0; r < rounds; r++)
        s += a(3000000) + b(1000000);
    printf("%lu\n", s);
    return 0;
}
]]

local dir

local function sh(cmd, cwd)
  local r = t.run({ "sh", "-c", cmd }, { cwd = cwd or dir })
  assert.equals(0, r.code, cmd .. "\n" .. (r.stderr or ""))
  return r
end

--- perf record with opts into NAME.data, and its perf script text.
local function record(name, opts, argv)
  sh("perf record -q " .. opts .. " -o " .. name .. ".data -- " .. argv .. " >/dev/null 2>&1")
  sh("perf script --show-mmap-events -i " .. name .. ".data > " .. name .. ".script 2>/dev/null")
  return dir .. "/" .. name .. ".data", dir .. "/" .. name .. ".script"
end

local function convert(args, opts)
  local r = t.perfgo(args, opts)
  assert.equals(0, r.code, table.concat(args, " ") .. "\n" .. r.stderr)
  return r
end

local function folded(input, extra, opts)
  local args = { "convert", "-i", input, "--format", "folded" }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return convert(args, opts).stdout
end

--- `go tool pprof -top -lines` without the comment lines that name the
--- source, and without the duration's share: perf script prints times in
--- microseconds, so the text path's duration is up to 2 us shorter, which
--- shows in a short recording's "Total samples = ... (111.57%)".
local function top(profile)
  local r = t.run({ "go", "tool", "pprof", "-top", "-lines", "-nodecount=200", profile })
  assert.equals(0, r.code, r.stderr)
  return (r.stdout:gsub("^.-\nType:", "Type:"):gsub("\nDuration: [^\n]*", ""))
end

local function totals(profile)
  local pprof = require "perfgo.pprof"
  local p = assert(pprof.read(profile))
  local out = {}
  for _, st in ipairs(p:summary().sample_types) do out[#out + 1] = st.type .. "=" .. st.total end
  return table.concat(out, " ")
end

--- Both paths, compared: folded (each option set) and pprof.
local function same(data, script, option_sets)
  for _, extra in ipairs(option_sets or { {} }) do
    local a, b = folded(data, extra), folded(script, extra)
    assert.is_true(#a > 0, "no folded output for " .. data)
    assert.equals(b, a, "folded " .. table.concat(extra, " "))
  end
  local pa, pb = data .. ".pb.gz", script .. ".pb.gz"
  convert({ "convert", "-i", data, "-o", pa })
  convert({ "convert", "-i", script, "-o", pb })
  assert.equals(top(pb), top(pa))
  assert.equals(totals(pb), totals(pa))
end

describe("perfgo convert -i perf.data", function()
  setup(function()
    dir = t.tmpdir()
    t.write(dir .. "/libhot.c", LIBHOT_C)
    t.write(dir .. "/main.c", MAIN_C)
    sh("gcc -g -O1 -fno-omit-frame-pointer -fPIC -shared -o libhot.so libhot.c && "
      .. "gcc -g -O1 -fno-omit-frame-pointer -fPIE -pie -o main main.c -L. -lhot -Wl,-rpath," .. dir)
    local src = os.getenv("PERFGO_SOURCE_DIR") or "."
    sh("go test -c -o " .. t.quote(dir .. "/gobench.test") .. " . 2>&1", src .. "/tests/bench/gobench")
  end)
  teardown(function() t.rmtree(dir) end)

  local GO = "./gobench.test -test.run=^$ -test.bench=. -test.benchtime=150ms"

  it("equals the text path on a Go benchmark (fp callchains, kernel and vdso frames)", function()
    local data, script = record("go", "-g -e cpu-clock -F 4000", GO)
    same(data, script, { {}, { "--all" }, { "--kernel" } })
    -- the recording does have kernel frames, named from kallsyms
    assert.matches("_%[k%] %d+\n", folded(data, { "--kernel" }))
    assert.not_matches("%[unknown%]_%[k%]", folded(data, { "--kernel" }))
  end)

  it("equals the text path on a C PIE and its shared library", function()
    local data, script = record("c", "-g -e cpu-clock -F 2000", "./main 300")
    same(data, script, { {}, { "--all" } })
    assert.matches("main;main_spin %d+\n", folded(data))
    assert.matches("main;lib_spin %d+\n", folded(data))
  end)

  it("equals the text path with several events, a tracepoint and child processes", function()
    local data, script = record("multi", "-g -e cpu-clock -e page-faults -e sched:sched_switch",
      "sh -c './main 200; ./main 100'")
    same(data, script, { {}, { "--event-filter", "page-faults" }, { "--event-filter", "sched:sched_switch" } })
    assert.matches("sched_switch=%d+", totals(data .. ".pb.gz"))
  end)

  it("finds a stripped binary's symbols in its debug file through the debug link", function()
    sh("gcc -g -O1 -fno-omit-frame-pointer -fPIE -pie -Wl,--build-id=none -o main-dl main.c "
      .. "-L. -lhot -Wl,-rpath," .. dir .. " && objcopy --only-keep-debug main-dl main-dl.debug && "
      .. "strip --strip-all main-dl && objcopy --add-gnu-debuglink=main-dl.debug main-dl")
    local data, script = record("dl", "-g -e cpu-clock -F 2000", "./main-dl 200")
    same(data, script)
    assert.matches(";main_spin %d+\n", folded(data)) -- stripped: only the debug file names it
  end)

  it("demangles C++, Rust and OCaml names as perf does", function()
    t.write(dir .. "/names.cc", NAMES_CC)
    sh("g++ -g -O1 -fno-omit-frame-pointer -o names names.cc")
    local data, script = record("names", "-g -e cpu-clock -F 4000", "./names 150")
    same(data, script)
    local f = folded(data)
    for _, name in ipairs({ "ns::Box<unsigned long>::spin", "ns::Op::operator", "(anonymous namespace)::anon_spin",
      "mycrate::spin", "mycrate::v0_spin", "Hot.spin_123" }) do
      assert.is_truthy(f:find(";" .. name .. " ", 1, true), name .. " in\n" .. f)
    end
  end)

  describe("with --srcline", function()
    --- perf script -F +srcline's text of a recording, and the folded
    --- --srcline output and pprof of both paths.
    local function both(name, opts, argv)
      local data = record(name, opts, argv)
      local script = dir .. "/" .. name .. "-src.script"
      sh("perf script -F +srcline --show-mmap-events -i " .. name .. ".data > " .. script .. " 2>/dev/null")
      local a, b = folded(data, { "--srcline" }), folded(script, { "--srcline" })
      local pa, pb = data .. ".src.pb.gz", script .. ".pb.gz"
      convert({ "convert", "-i", data, "--srcline", "-o", pa })
      convert({ "convert", "-i", script, "--srcline", "-o", pb })
      return a, b, pa, pb
    end

    it("equals the text path on a Go benchmark", function()
      local a, b, pa, pb = both("gosrc", "-g -e cpu-clock -F 2000", GO)
      assert.equals(b, a)
      assert.equals(top(pb), top(pa))
      assert.matches("runtime%.[%w.]+:[%w_]+%.go:%d+", a)
    end)

    it("equals the text path on C with an inlined header function (DWARF 4 and 5, no libc lines)", function()
      t.write(dir .. "/hot.h", HOT_H)
      t.write(dir .. "/src.c", SRC_C)
      for _, v in ipairs({ "4", "5" }) do
        -- static: libc.a has no line table, so every source line is this program's
        sh("gcc -static -g -gdwarf-" .. v .. " -O2 -fno-omit-frame-pointer -o src" .. v .. " src.c")
        local a, b, pa, pb = both("src" .. v, "-g -e cpu-clock -F 2000", "./src" .. v .. " 150")
        assert.equals(b, a)
        assert.equals(top(pb), top(pa))
        -- perf shows no inlined frame: the loop's samples name hot, with
        -- the line of mix in hot.h where the address lies
        assert.matches(";hot:hot%.h:%d+ %d+\n", a)
        assert.not_matches(";mix", a)
        -- perf 6.1 shows no inlined frame in an fp callchain with --inline either
        sh("perf script --inline --show-mmap-events -i src" .. v .. ".data > inl" .. v .. ".script 2>/dev/null")
        assert.equals(folded(dir .. "/inl" .. v .. ".script"), folded(dir .. "/src" .. v .. ".data"))
      end
    end)

    it("names the line table's file where perf's addr2line names the unit's (libc)", function()
      -- perf 6.1 runs binutils 2.40's addr2line, which names the unit's
      -- primary file for some rows of DWARF 5 line tables that are in an
      -- included file: glibc's __libc_start_call_main is at
      -- libc_start_call_main.h:74, which it calls libc-start.c:74. The
      -- lines are the same; the file is the line table's here.
      sh("gcc -g -O2 -fno-omit-frame-pointer -o srcdyn src.c")
      local a, b = both("srcdyn", "-g -e cpu-clock -F 2000", "./srcdyn 150")
      local function stacks(text)
        local out = {}
        for line in text:gmatch("[^\n]+") do out[#out + 1] = line end
        return out
      end
      local sa, sb = stacks(a), stacks(b)
      assert.equals(#sb, #sa)
      local differ = 0
      for i = 1, #sa do
        if sa[i] ~= sb[i] then
          differ = differ + 1
          -- frame by frame: the same function and line, another file
          local fa, fb = {}, {}
          for f in (sa[i] .. ";"):gmatch("([^;]*);") do fa[#fa + 1] = f end
          for f in (sb[i] .. ";"):gmatch("([^;]*);") do fb[#fb + 1] = f end
          assert.equals(#fb, #fa)
          for k = 1, #fa do
            if fa[k] ~= fb[k] then
              local na, la = fa[k]:match("^(.-):[^:]+:(%d+.*)$")
              local nb, lb = fb[k]:match("^(.-):[^:]+:(%d+.*)$")
              assert.equals(nb, na)
              assert.equals(lb, la)
            end
          end
        end
      end
      assert.matches("__libc_start_call_main:libc_start_call_main%.h:74;", a)
      assert.matches("__libc_start_call_main:libc%-start%.c:74;", b)
      assert.is_true(differ > 0)
    end)
  end)

  it("names JIT frames from /tmp/perf-PID.map as perf does", function()
    t.write(dir .. "/jit.c", JIT_C)
    sh("gcc -O1 -fno-omit-frame-pointer -o jit jit.c")
    local data, script = record("jit", "-g -e cpu-clock -F 2000", "./jit 200")
    local pid = assert(t.read(script):match("/tmp/perf%-(%d+)%.map"), "no JIT map in the recording")
    local ok, err = pcall(function()
      same(data, script, { {}, { "--jit" } })
      assert.matches(";jit_spin_a %d+\n", folded(data))
      assert.matches(";Jit::spin_b %d+\n", folded(data)) -- as written: perf demangles none
      assert.matches(";jit_spin_a_%[j%] %d+\n", folded(data, { "--jit" }))
    end)
    os.remove("/tmp/perf-" .. pid .. ".map")
    assert(ok, err)
  end)

  it("equals the text path without callchains", function()
    local data, script = record("nocg", "-e cpu-clock -F 2000", "./main 200")
    same(data, script, { {}, { "--all" } })
  end)

  it("equals the text path on a compressed recording (perf record -z)", function()
    local data, script = record("z", "-z -g -e cpu-clock -F 4000", GO)
    same(data, script, { {}, { "--all" } })
    local header = sh("perf report -i " .. data .. " --header-only 2>&1").stdout
    assert.matches("# compressed : Zstd", header, 1, true)
  end)

  it("reads pipe mode, from stdin and from a file", function()
    sh("perf record -q -g -e cpu-clock -F 2000 -o - -- ./main 200 2>/dev/null > pipe.data")
    sh("perf script --show-mmap-events -i - < pipe.data > pipe.script 2>/dev/null")
    local want = folded(dir .. "/pipe.script")
    assert.equals(want, folded(dir .. "/pipe.data"))
    local r = t.run({ "sh", "-c", "cat pipe.data | " .. t.quote(t.bin()) .. " convert -i - --format folded" },
      { cwd = dir })
    assert.equals(0, r.code, r.stderr)
    assert.equals(want, r.stdout)
    local reader = assert(require("perfgo.perfdata").open(dir .. "/pipe.data"))
    assert.is_true(reader:info().pipe)
    local samples = 0
    for rec in reader:records() do samples = samples + (rec.type == "sample" and 1 or 0) end
    assert.is_true(samples > 0)
    assert.equals("cpu-clock", reader:info().events[1].name) -- from the pipe's attribute records
    reader:close()
  end)

  it("reads a file-mode perf.data piped into stdin", function()
    local data = record("stdin", "-g -e cpu-clock -F 2000", "./main 100")
    local r = t.run({ "sh", "-c", "cat " .. t.quote(data) .. " | " .. t.quote(t.bin())
      .. " convert -i - --format folded" })
    assert.equals(0, r.code, r.stderr)
    assert.equals(folded(data), r.stdout)
  end)

  it("folds like perf script without --show-mmap-events", function()
    local data = record("nommap", "-g -e cpu-clock -F 2000", "./main 200")
    sh("perf script -i nommap.data > nommap-plain.script 2>/dev/null")
    assert.equals(folded(dir .. "/nommap-plain.script"), folded(data))
  end)

  describe("perf script's quirks", function()
    it("perf prints only the tid: the text's --pid root is comm-?, perf.data's comm-PID", function()
      local data, script = record("pid", "-g -e cpu-clock -F 2000", "./main 100")
      local a, b = folded(data, { "--pid" }), folded(script, { "--pid" })
      assert.matches("^main%-%d+;", a)
      assert.matches("^main%-%?;", b)
      assert.equals(b, (a:gsub("main%-%d+;", "main-?;")))
    end)

    it("a tracepoint's ip, printed after its trace text, is dropped by both paths", function()
      local data, script = record("tp", "-e sched:sched_switch", "sh -c 'sleep 0.01; sleep 0.01'")
      local a = folded(data)
      assert.equals(folded(script), a)
      for line in a:gmatch("[^\n]+") do assert.matches("^[^;]+ %d+$", line) end
    end)

    it("perf 6.1 prints user frames as file offsets: --addrs shows the ips instead", function()
      -- stripped and without a build id: no symbols anywhere, so frames
      -- in it are [unknown] and --addrs prints their addresses
      sh("gcc -O1 -fno-omit-frame-pointer -fPIE -pie -s -Wl,--build-id=none -o main-stripped main.c "
        .. "-L. -lhot -Wl,-rpath," .. dir)
      local data, script = record("addrs", "-g -e cpu-clock -F 2000", "./main-stripped 100")
      local a, b = folded(data, { "--addrs" }), folded(script, { "--addrs" })
      -- the same stacks once addresses are set aside (the counts of
      -- frames that differ only in their address then add up)
      local function unaddr(s)
        local sum, keys = {}, {}
        for stack, n in s:gmatch("([^\n]+) (%d+)\n") do
          stack = stack:gsub("%[([^%]]-) <%x+>%]", "[%1 <ADDR>]")
          if not sum[stack] then keys[#keys + 1] = stack end
          sum[stack] = (sum[stack] or 0) + tonumber(n)
        end
        table.sort(keys)
        for i, k in ipairs(keys) do keys[i] = k .. " " .. sum[k] end
        return table.concat(keys, "\n")
      end
      assert.equals(unaddr(b), unaddr(a))
      assert.matches("%[main%-stripped <5%x%x%x%x%x%x%x%x%x%x%x>%]", a) -- a PIE's runtime ip
      assert.not_matches("%[main%-stripped <5%x%x%x%x%x%x%x%x%x%x%x>%]", b)
    end)
  end)
end)
