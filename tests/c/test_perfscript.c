/* Unit tests of the perf script tokenizer: headers, side-band records,
 * frame lines, folded names, and the streaming parser's line handling. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "perfscript/perfscript.h"
#include "perfscript/ps_internal.h"

static bool str_eq(ps_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void header(const char *line, int rules, ps_header *h)
{
    ps_parse_header(line, strlen(line), rules, h);
}

#define ALL (PS_RULE_A | PS_RULE_B | PS_RULE_C)

static void test_header_rule_a(void)
{
    ps_header h;
    header("corpusbench.tes 25260   744.508369:     100000 cpu-clock: ", ALL, &h);
    CHECK(h.kind == PS_LINE_HEADER && h.rule == PS_RULE_A && h.id_before_time);
    CHECK(str_eq(h.comm, "corpusbench.tes"));
    CHECK(!h.has_pid && h.tid == 25260);
    CHECK(h.has_time && h.time_ns == 744508369000ULL);
    CHECK(h.has_period && h.period == 100000);
    CHECK(h.has_event && str_eq(h.event, "cpu-clock"));
    CHECK(!h.tail_is_frame);

    /* comm with spaces ending in digits, pid/tid, cpu */
    header("worker 1 25527/25529 [000] 758.380745:    1000000 cpu-clock: ", ALL, &h);
    CHECK(str_eq(h.comm, "worker 1"));
    CHECK(h.pid == 25527 && h.tid == 25529 && h.has_cpu && h.cpu == 0);
    /* nanosecond timestamps */
    header("a 1/2 744.508369217: 5 task-clock:", ALL, &h);
    CHECK(h.time_ns == 744508369217ULL && h.period == 5 && str_eq(h.event, "task-clock"));
    /* no comm */
    header("25260   744.508369:     100000 cpu-clock: ", ALL, &h);
    CHECK(h.comm.len == 0 && h.tid == 25260 && h.id_before_time);
    /* one-letter comm */
    header("X 101 1.001: 10 cycles:", ALL, &h);
    CHECK(str_eq(h.comm, "X") && h.tid == 101 && str_eq(h.event, "cycles"));
}

static void test_header_tails(void)
{
    ps_header h;
    /* tracepoint: event with ':' and argument text */
    header("perf 28444 [000]   844.555593: sched:sched_switch: prev_comm=perf prev_pid=1 ==> "
           "next_comm=migration/0",
           ALL, &h);
    CHECK(h.kind == PS_LINE_HEADER && !h.has_period);
    CHECK(str_eq(h.event, "sched:sched_switch") && !h.tail_is_frame);
    /* no callchain: the frame is on the header line, comm right-aligned */
    header("       templates 25422   752.880362:     500000 cpu-clock:      7f99d2f466e4 "
           "_dl_map_object_deps+0x474 (/usr/lib/ld.so)",
           ALL, &h);
    CHECK(str_eq(h.comm, "templates") && h.tail_is_frame);
    CHECK(str_eq(h.tail, "7f99d2f466e4 _dl_map_object_deps+0x474 (/usr/lib/ld.so)"));
    /* PMU-style event names and modifiers are kept whole */
    header("a 1 2.5: 100 cpu_core/cycles:ppp/: ", ALL, &h);
    CHECK(str_eq(h.event, "cpu_core/cycles:ppp/"));
    header("a 1 2.5: 100 cycles:u: ", ALL, &h);
    CHECK(str_eq(h.event, "cycles:u"));
    /* padded event column */
    header("faults 25483   757.119835:     250000   cpu-clock: ", ALL, &h);
    CHECK(str_eq(h.event, "cpu-clock") && h.period == 250000);
}

static void test_header_rules_b_c_and_sideband(void)
{
    ps_header h;
    header("myprog 1234 100 cpu-clock:", ALL, &h);
    CHECK(h.rule == PS_RULE_B && str_eq(h.comm, "myprog") && h.tid == 1234);
    CHECK(h.period == 100 && str_eq(h.event, "cpu-clock"));
    header("corpusbench.tes ", ALL, &h);
    CHECK(h.rule == PS_RULE_C && str_eq(h.comm, "corpusbench.tes"));
    header("corpusbench.tes ", PS_RULE_A | PS_RULE_B, &h);
    CHECK(h.kind == PS_LINE_OTHER);
    header("    100000 ", ALL, &h); /* period only: not a header */
    CHECK(h.kind == PS_LINE_OTHER);
    header("\tffffffff8158c3e1 next_uptodate_folio", ALL, &h);
    CHECK(h.kind == PS_LINE_OTHER);

    header("swapper     0     0.000000: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1209988) "
           "@ 0xffffffff81000000]: x [kernel.kallsyms]_text",
           ALL, &h);
    CHECK(h.kind == PS_LINE_SIDEBAND);
    ps_mmap m;
    CHECK(ps_parse_mmap(&h.record, &m));
    CHECK(!m.mmap2 && m.pid == -1 && m.start == 0xffffffff81000000ULL && m.len == 0x1209988);
    CHECK(str_eq(m.path, "[kernel.kallsyms]_text"));

    header("plugins 25726   766.738362: PERF_RECORD_MMAP2 25726/25726: [0x561b14893000(0x1000) "
           "@ 0x1000 fe:00 11035852 3070198326]: r-xp /opt/dir with space/plugins",
           ALL, &h);
    CHECK(h.kind == PS_LINE_SIDEBAND && ps_parse_mmap(&h.record, &m));
    CHECK(m.mmap2 && m.pid == 25726 && m.start == 0x561b14893000ULL && m.pgoff == 0x1000);
    CHECK(m.dev_known && m.maj == 0xfe && m.min == 0 && m.ino == 11035852);
    CHECK(str_eq(m.prot, "r-xp") && str_eq(m.path, "/opt/dir with space/plugins"));

    header("main 5 1.0: PERF_RECORD_MMAP2 5/5: [0x55b9d31a4000(0x1000) @ 0x1000 "
           "<11caba645e14>]: r-xp /x/main",
           ALL, &h);
    CHECK(ps_parse_mmap(&h.record, &m) && str_eq(m.build_id, "11caba645e14") && !m.dev_known);

    header("loader main 25726   766.738797: PERF_RECORD_FORK(25726:25728):(25726:25726)", ALL, &h);
    CHECK(h.kind == PS_LINE_SIDEBAND && str_eq(h.comm, "loader main"));
    int64_t pid, ppid, tid;
    CHECK(ps_parse_fork(&h.record, &pid, &ppid, &tid) && pid == 25726 && ppid == 25726 &&
          tid == 25728);
    header("plugins 25726   766.738332: PERF_RECORD_COMM exec: plugins:25726/25726", ALL, &h);
    ps_str name;
    bool exec;
    CHECK(ps_parse_comm_record(&h.record, &name, &pid, &tid, &exec));
    CHECK(exec && str_eq(name, "plugins") && pid == 25726 && tid == 25726);
}

static bool frame(const char *line, ps_frame *f)
{
    return ps_parse_frame(line, strlen(line), f);
}

static void test_frames(void)
{
    ps_frame f;
    CHECK(frame("\tffffffff8158c3e1 next_uptodate_folio+0xc1 ([kernel.kallsyms])", &f));
    CHECK(f.address == 0xffffffff8158c3e1ULL && str_eq(f.sym, "next_uptodate_folio"));
    CHECK(f.has_dso && str_eq(f.dso, "[kernel.kallsyms]") && f.kernel && !f.jit);

    CHECK(frame("  55e6 std::_Function_handler<double (double, int), main::Halver>::_M_invoke+0xc "
                "(/some dir/templates)",
                &f));
    CHECK(str_eq(f.sym, "std::_Function_handler<double (double, int), main::Halver>::_M_invoke"));
    CHECK(str_eq(f.dso, "/some dir/templates"));

    CHECK(frame("\t7f [unknown] (/tmp/x/selfdel (deleted))", &f));
    CHECK(str_eq(f.sym, "[unknown]") && str_eq(f.dso, "/tmp/x/selfdel") && f.deleted);

    CHECK(frame("\t3fbf3 msort_with_tmp+0x293", &f)); /* perf --inline: no DSO */
    CHECK(!f.has_dso && str_eq(f.sym, "msort_with_tmp"));
    CHECK(frame("\t10 foo(int)", &f)); /* ( not after a blank: no DSO */
    CHECK(!f.has_dso && str_eq(f.sym, "foo(int)"));
    CHECK(frame("\t604ee  (/bin/x)", &f)); /* empty symbol */
    CHECK(f.has_dso && f.sym.len == 0);
    CHECK(frame("7f299b747dc2 RegExp:\\s++0x41 (/tmp/perf-25545.map)", &f));
    CHECK(str_eq(f.sym, "RegExp:\\s+") && f.jit && !f.kernel);
    CHECK(frame("1\tfoo\t(/a/b.so)", &f)); /* simpleperf: TABs */
    CHECK(str_eq(f.sym, "foo") && str_eq(f.dso, "/a/b.so"));
    CHECK(frame("ffffffff8158c3e1", &f)); /* address only */
    CHECK(!f.has_dso && f.sym.len == 0);
    CHECK(!frame("\tinline.c:47", &f));
    CHECK(!frame("  msort.c:64 (inlined)", &f));

    CHECK(ps_dso_is_kernel("vmlinux-5.4.14-cloudflare-2020.1.11", 35));
    CHECK(ps_dso_is_kernel("/lib/modules/x/kvm.ko", 21));
    CHECK(!ps_dso_is_kernel("[unknown]", 9));
    CHECK(!ps_dso_is_kernel("/usr/lib/vmlinux/x.so", 21));
    CHECK(ps_dso_is_jit("/home/u/.debug/jit/x/jitted-123-4.so", 36));
    CHECK(!ps_dso_is_jit("/tmp/perf-x.map", 15));
}

/* The folded name of one frame line under options. */
static char *fold(const char *line, const ps_fold_options *o, bool java, const char *src)
{
    static char out[1024];
    ps_frame f;
    if (!ps_parse_frame(line, strlen(line), &f))
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (ps_fold_frame(&f, o, java, src, src ? strlen(src) : 0, &buf, &len, &cap) != 0)
        return NULL;
    snprintf(out, sizeof out, "%.*s", (int)len, buf);
    free(buf);
    return out;
}

static void test_fold_names(void)
{
    ps_fold_options o = {0};
    CHECK_STR(fold("1 foo(int) (/x)", &o, false, NULL), "foo");
    CHECK_STR(fold("1 runtime.(*mheap).init+0x13f (/x)", &o, false, NULL), "runtime.(*mheap).init");
    CHECK_STR(fold("1 (anonymous namespace)::run(int) (/x)", &o, false, NULL),
              "(anonymous namespace)::run");
    CHECK_STR(
        fold("1 apply_n<main::{lambda(int)#3}>(main::{lambda(int)#3}, int) (/x)", &o, false, NULL),
        "apply_n<main::{lambda(int)#3}>");
    CHECK_STR(fold("1 X::operator()(int) (/x)", &o, false, NULL), "X::operator");
    /* README §4.2, 7.3: operator tokens */
    CHECK_STR(fold("1 X::operator->() (/x)", &o, false, NULL), "X::operator->");
    CHECK_STR(fold("1 X::operator<(X const&) (/x)", &o, false, NULL), "X::operator<");
    CHECK_STR(
        fold("1 std::operator<< <std::char_traits<char> >(std::ostream&) (/x)", &o, false, NULL),
        "std::operator<< <std::char_traits<char> >");
    CHECK_STR(fold("1 X::operator<=>(X) (/x)", &o, false, NULL), "X::operator<=>");
    CHECK_STR(fold("1 a;b (/x)", &o, false, NULL), "a:b");
    /* -> inlining, always on */
    CHECK_STR(fold("1 a->b->c (/x)", &o, false, NULL), "a;b_[i];c_[i]");
    CHECK_STR(fold("1 a->b_[i] (/x)", &o, false, NULL), "a;b_[i]");
    /* unknown symbols */
    CHECK_STR(fold("1 [unknown] (/usr/bin/perf)", &o, false, NULL), "[perf]");
    CHECK_STR(fold("1 [unknown] ([unknown])", &o, false, NULL), "[unknown]");
    CHECK_STR(fold("1 [unknown]", &o, false, NULL), "[unknown]");
    CHECK_STR(fold("1 [unknown] (/memfd:sealed-9 (deleted))", &o, false, NULL), "[memfd:sealed-9]");
    CHECK_STR(fold("1  (/bin/x)", &o, false, NULL), " ");
    /* Java tidy only under a java root */
    CHECK_STR(fold("1 Lorg/x/Y;.call(I)V (/tmp/perf-1.map)", &o, true, NULL), "org/x/Y:.call");
    CHECK_STR(fold("1 Lorg/x/Y;.call(I)V (/tmp/perf-1.map)", &o, false, NULL), "Lorg/x/Y:.call");
    /* Rust legacy names */
    CHECK_STR(fold("1 _$LT$std..fs..ReadDir$u20$as$u20$core..iter..Iterator$GT$::next::"
                   "hc14f1750ca79129b (/x)",
                   &o, false, NULL),
              "<std::fs::ReadDir as core::iter::Iterator>::next");
    CHECK_STR(fold("1 a..b$zz$c::h0123456789abcdef (/x)", &o, false, NULL), "a::b$zz$c");

    ps_fold_options all = {.kernel = true, .jit = true};
    CHECK_STR(fold("1 f ([kernel.kallsyms])", &all, false, NULL), "f_[k]");
    CHECK_STR(fold("1 JS:*fib+0x1 (/tmp/perf-25545.map)", &all, false, NULL), "JS:*fib_[j]");
    CHECK_STR(fold("1 f", &all, false, NULL), "f"); /* no DSO: no annotation */
    ps_fold_options addrs = {.addrs = true};
    CHECK_STR(fold("7f12 [unknown] (/usr/bin/perf)", &addrs, false, NULL), "[perf <7f12>]");
    CHECK_STR(fold("7f12 [unknown] ([unknown])", &addrs, false, NULL), "[unknown <7f12>]");
    ps_fold_options src = {.srcline = true, .kernel = true};
    CHECK_STR(fold("1 main+0x1 (/x)", &src, false, "  inline.c:94"), "main:inline.c:94");
    CHECK_STR(fold("1 f (/x)", &src, false, "  msort.c:64 (inlined)"), "f:msort.c:64");
    CHECK_STR(fold("1 f (/x)", &src, false, "  a.c:3 (discriminator 2)"), "f:a.c:3");
    CHECK_STR(fold("1 f (/x)", &src, false, "  ??:0"), "f");
    CHECK_STR(fold("1 f (/x)", &src, false, "  libc.so.6[26290]"), "f");
    CHECK_STR(fold("1 f ([kernel.kallsyms])", &src, false, "  k.c:5"), "f:k.c:5_[k]");
}

static void test_srcline_split(void)
{
    ps_str file;
    uint64_t line;
    CHECK(ps_srcline_split("  inline.c:47", 13, &file, &line));
    CHECK(str_eq(file, "inline.c") && line == 47);
    CHECK(ps_srcline_split("  msort.c:64 (inlined)", 22, &file, &line));
    CHECK(str_eq(file, "msort.c") && line == 64);
    CHECK(ps_srcline_split("a b/c.c:3 (discriminator 12)", 28, &file, &line));
    CHECK(str_eq(file, "a b/c.c") && line == 3);
    CHECK(!ps_srcline_split("  ??:0", 6, &file, &line));
    CHECK(!ps_srcline_split("x.c:0", 5, &file, &line));
    CHECK(!ps_srcline_split(":12", 3, &file, &line));
    CHECK(!ps_srcline_split("  libc.so.6[26290]", 18, &file, &line));
    CHECK(!ps_srcline_split("  [kernel.kallsyms][ffffffff81000c82]", 37, &file, &line));
}

static char *fold_text(const char *text, size_t chunk, const ps_fold_options *fo,
                       const ps_options *po)
{
    ps_parser *p = ps_new(po);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += chunk)
        if (ps_feed(p, text + i, n - i < chunk ? n - i : chunk) != PS_OK) {
            ps_free(p);
            return NULL;
        }
    char *out = NULL;
    size_t len;
    ps_fold_options none = {0};
    if (ps_finish(p) != PS_OK || ps_folded(p, fo ? fo : &none, &out, &len) != PS_OK)
        out = NULL;
    ps_free(p);
    return out;
}

static const char sample_text[] = "# header\n"
                                  "main loop 0 25527 [001]   758.380137:    1000000 cpu-clock: \n"
                                  "\t11a1 crunch_numbers+0x18 (/opt/threads)\n"
                                  "\t2724a __libc_start_call_main+0x7a (/usr/lib/libc.so.6)\n"
                                  "\n"
                                  "main loop 0 25527 [001]   758.380138:    1000000 cpu-clock: \n"
                                  "\t11a1 crunch_numbers+0x18 (/opt/threads)\n"
                                  "\t2724a __libc_start_call_main+0x7a (/usr/lib/libc.so.6)\n"
                                  "\n"
                                  "worker 1 25528 [000]   758.380139:    2000000 cpu-clock: \n"
                                  "\t11a1 crunch_numbers+0x18 (/opt/threads)\n"
                                  "\n";

static void test_stream_chunks(void)
{
    const char *want = "main_loop_0;__libc_start_call_main;crunch_numbers 2000000\n"
                       "worker_1;crunch_numbers 2000000\n";
    size_t chunks[] = {1, 2, 7, 64, 100000};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char *out = fold_text(sample_text, chunks[i], NULL, NULL);
        CHECK_STR(out, want);
        free(out);
    }
    /* no final newline, no final blank line, CRLF */
    char *out = fold_text("a 1 1.0: 5 e:\n\t1 f (/x)", 3, NULL, NULL);
    CHECK_STR(out, "a;f 5\n");
    free(out);
    out = fold_text("a 1 1.0: 5 e:\r\n\t1 f (/x)\r\n\r\n", 4, NULL, NULL);
    CHECK_STR(out, "a;f 5\n");
    free(out);
    /* a full header inside a sample starts the next one (no blank lines) */
    out = fold_text("a 1 1.0: e:\n\t1 f (/x)\nb 2 2.0: e:\n\t2 g (/x)\n", 5, NULL, NULL);
    CHECK_STR(out, "a;f 1\nb;g 1\n");
    free(out);
    /* empty stack, side-band lines skipped */
    out = fold_text("a 1 1.0: 3 e:\n\nx 1 1.5: PERF_RECORD_COMM: x:1/1\nb 1 2.0: 4 e:\n\t1 f "
                    "(/x)\n",
                    1000, NULL, NULL);
    CHECK_STR(out, "a 3\nb;f 4\n");
    free(out);
}

static void test_unrecognized_and_strict(void)
{
    const char *text = "a 1 1.0: 3 e:\n\t1 f (/x)\n\t1 g (/x)\n  f.c:3\n  ???\n\n";
    ps_parser *p = ps_new(NULL);
    CHECK(ps_feed(p, text, strlen(text)) == PS_OK && ps_finish(p) == PS_OK);
    CHECK(ps_get_stats(p)->unrecognized == 1 && ps_get_stats(p)->first_unrecognized == 5);
    CHECK(ps_warning_count(p) == 1);
    ps_free(p);

    ps_options strict = {.strict = true};
    p = ps_new(&strict);
    CHECK(ps_feed(p, text, strlen(text)) == PS_ERR_STRICT);
    CHECK(strncmp(ps_error(p), "5: unrecognized line", 20) == 0);
    ps_free(p);
}

static void test_garbage(void)
{
    /* binary garbage, NULs, a very long line: never crashes */
    size_t n = (3u << 20) + 17;
    char *junk = malloc(n + 1);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
        if (i > 1000000 && i < 2300000)
            junk[i] = 'a'; /* a line over the length limit */
    }
    junk[n] = '\0';
    ps_parser *p = ps_new(NULL);
    CHECK(ps_feed(p, junk, n) == PS_OK);
    CHECK(ps_finish(p) == PS_OK);
    char *out;
    size_t len;
    ps_fold_options fo = {0};
    CHECK(ps_folded(p, &fo, &out, &len) == PS_OK);
    free(out);
    ps_free(p);
    free(junk);
}

static bool same_str(ps_str a, ps_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A header read through the template must be exactly what the full parse
 * of that line gives; lines that differ elsewhere than in the timestamp
 * must not be taken from the template. */
static void test_header_template(void)
{
    static const struct {
        const char *tmpl, *line;
        bool hit;
    } cases[] = {
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4055.500943:      50000 cpu-clock: ", true},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  999.5:      50000 cpu-clock: ", true},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  104055.123456789:      50000 cpu-clock: ", true},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4055.5009421234567:      50000 cpu-clock: ", true},
        {"prog 100/101 [002] 10.000100: 1000000 cpu-clock:u: ",
         "prog 100/101 [002] 11.000100: 1000000 cpu-clock:u: ", true},
        {"a b 1 1.0: e:", "a b 1 22.75: e:", true},
        {"a b 1 1.0:", "a b 1 2.0:", true},
        {"a 1 1.0: e:", "a 1 1234567890123456789.0: e:", true}, /* saturating, as in full */
        /* as long as the template: digits where the template has them */
        {"a 1 1.0: e:", "a 1 9.5: e:", true},
        {"a 1 1.0123456789012: e:", "a 1 7.9876543210987: e:", true},
        {"a 1 1234567890123456789.0: e:", "a 1 9999999999999999999.9: e:", true},
        {"a 1 12345678901234567890.0: e:", "a 1 98765432109876543210.5: e:", true},
        {"a 1 1.0: e:", "a 1 x.5: e:", false},
        {"a 1 1.0: e:", "a 1 1.x: e:", false},
        {"a 1 1.00: e:", "a 1 1.0x: e:", false},
        {"a 1 10.0: e:", "a 1 1.00: e:", true}, /* same length, point elsewhere */
        {"a 1 1.00: e:", "a 1 10.0: e:", true},
        /* the same, with room to read the digits eight at a time */
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  9999.999999:      50000 cpu-clock: ", true},
        {"bench.test 17017 12345678.12345678:      50000 cpu-clock: ",
         "bench.test 17017 87654321.87654321:      50000 cpu-clock: ", true},
        {"bench.test 17017 123456789.123456789:      50000 cpu-clock: ",
         "bench.test 17017 987654321.987654321:      50000 cpu-clock: ", true},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4055.50094x:      50000 cpu-clock: ", false},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4/55.500942:      50000 cpu-clock: ", false},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4055:500942:      50000 cpu-clock: ", false},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  40551500942:      50000 cpu-clock: ", false},
        /* other thread, period, event, cpu, comm: parsed in full */
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17018  4055.500943:      50000 cpu-clock: ", false},
        {"bench.test 17017  4055.500942:      50000 cpu-clock: ",
         "bench.test 17017  4055.500943:      50001 cpu-clock: ", false},
        {"prog 100/101 [002] 10.000100: 1000000 cpu-clock: ",
         "prog 100/101 [003] 10.000200: 1000000 cpu-clock: ", false},
        {"prog 100/101 [002] 10.000100: 1000000 cpu-clock: ",
         "prog 100/101 [002] 10.000100: 1000000 task-clock: ", false},
        /* not a timestamp where the template has one */
        {"a 1 1.0: e:", "a 1 1.: e:", false},
        {"a 1 1.0: e:", "a 1 .5: e:", false},
        {"a 1 1.0: e:", "a 1 1.0x: e:", false},
        {"a 1 1.0: e:", "a 1 1.0 : e:", false},

        {"a 1 1.0: e:", "a 1 1.0: e: ", false},
        {"a 1 1.0: e:", "a 1 1.0:", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_htmpl t;
        memset(&t, 0, sizeof t);
        ps_header th, got, want;
        header(cases[i].tmpl, ALL, &th);
        ps_keep_template(&t, cases[i].tmpl, strlen(cases[i].tmpl), &th);
        CHECK(t.valid);
        size_t n = strlen(cases[i].line);
        bool hit = ps_header_from_template(&t, cases[i].line, n, &got);
        CHECK_MSG(hit == cases[i].hit, cases[i].line);
        if (!hit)
            continue;
        header(cases[i].line, ALL, &want);
        CHECK_MSG(got.kind == want.kind && got.rule == want.rule &&
                      got.id_before_time == want.id_before_time && same_str(got.comm, want.comm) &&
                      got.has_pid == want.has_pid && got.pid == want.pid &&
                      got.has_tid == want.has_tid && got.tid == want.tid &&
                      got.has_cpu == want.has_cpu && got.cpu == want.cpu &&
                      got.has_time == want.has_time && got.time_ns == want.time_ns &&
                      got.time_pos == want.time_pos && got.time_end == want.time_end &&
                      got.has_period == want.has_period && got.period == want.period &&
                      got.has_event == want.has_event && same_str(got.event, want.event) &&
                      same_str(got.tail, want.tail) && got.tail_is_frame == want.tail_is_frame,
                  cases[i].line);
        /* the strings point into the new line, not the template */
        CHECK(got.comm.ptr == cases[i].line);
        CHECK(!got.event.len ||
              (got.event.ptr > cases[i].line && got.event.ptr < cases[i].line + n));
    }
    /* one-line samples, side-band lines and long lines are no templates */
    const char *no[] = {"a 1 1.0: 5 e: 4011a0 main+0x10 (/x)", "a 1 1.0: PERF_RECORD_COMM: a:1/1",
                        "a 1 e: 5"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        ps_htmpl t;
        memset(&t, 0, sizeof t);
        ps_header h;
        header(no[i], ALL, &h);
        ps_keep_template(&t, no[i], strlen(no[i]), &h);
        CHECK_MSG(!t.valid, no[i]);
    }
}

int main(void)
{
    RUN(test_header_rule_a);
    RUN(test_header_tails);
    RUN(test_header_rules_b_c_and_sideband);
    RUN(test_frames);
    RUN(test_fold_names);
    RUN(test_srcline_split);
    RUN(test_stream_chunks);
    RUN(test_unrecognized_and_strict);
    RUN(test_garbage);
    RUN(test_header_template);
    return CHECK_DONE();
}
