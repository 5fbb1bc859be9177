package dev.hmmmirror.vm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SplatDetectorTest {
    private static List<KernelSplat> scan(String console) {
        SplatDetector d = new SplatDetector();
        int n = 0;
        for (String line : console.split("\n")) {
            d.accept(++n, n * 0.1, line);
        }
        return d.splats();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[   12.345678] WARNING: CPU: 0 PID: 1 at mm/hmm.c:123 hmm_range_fault+0x1/0x2|WARNING",
        "[    3.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000|BUG",
        "[    3.000000] Oops: 0002 [#1] PREEMPT SMP NOPTI|Oops",
        "[    3.000000] general protection fault, probably for non-canonical address 0xdead: 0000 [#1]|Oops",
        "[    3.000000] BUG: KASAN: slab-use-after-free in hmm_mirror_release+0x10/0x20|KASAN",
        "[    3.000000] WARNING: possible circular locking dependency detected|lockdep",
        "[    3.000000] BUG: sleeping function called from invalid context at mm/memory.c:1|lockdep",
        "[  123.000000] INFO: task java:123 blocked for more than 60 seconds.|hung task",
        "[    3.000000] kernel BUG at mm/migrate.c:42!|BUG",
        "[    3.000000] UBSAN: shift-out-of-bounds in kmod/main.c:10:3|UBSAN",
        "[    3.000000] Kernel panic - not syncing: Fatal exception|panic",
        "[    3.000000] [    T1] WARNING: CPU: 0 PID: 1 at kernel/x.c:1 f+0x0/0x1|WARNING",
        "WARNING: CPU: 0 PID: 1 at kernel/x.c:1 f+0x0/0x1|WARNING",
    })
    void recognisesEachKind(String line, String kind) {
        List<KernelSplat> s = scan("[    1.0] ok\n" + line + "\n[    3.1] Call Trace:\n");
        assertEquals(1, s.size(), line);
        assertEquals(kind, s.getFirst().kind());
        assertEquals(2, s.getFirst().lineNumber());
    }

    @Test
    void ordinaryBootLinesAreNotReports() {
        String boot = """
                [    0.000000] Linux version 7.2.13+deb14-amd64
                [    1.260995] acpi PNP0A03:00: fail to add MMCONFIG information
                [    4.829345] hmm_mirror: loading out-of-tree module taints kernel.
                [    4.829346] hmm_mirror: module verification failed: signature and/or required key missing - tainting kernel
                [    4.9] hmm_mirror: loaded: ABI 1, 2 devices, caps 0x7
                @@HMM MODULE rc=0 uptime=4.90
                [    5.0] systemd[1]: WARNING is a word in this sentence but not at the start
                """;
        assertTrue(scan(boot).isEmpty(), () -> scan(boot).toString());
    }

    @Test
    void collectsTheWholeReportUpToItsEndMarker() {
        String c = """
                [   10.0] WARNING: CPU: 0 PID: 77 at kmod/main.c:99 hmm_mirror_ioctl+0x20/0x40 [hmm_mirror]
                [   10.0] Modules linked in: hmm_mirror(OE)
                [   10.0] Call Trace:
                [   10.0]  <TASK>
                [   10.0]  __x64_sys_ioctl+0x90/0xd0
                [   10.0] ---[ end trace 0000000000000000 ]---
                [   10.1] after the report
                """;
        List<KernelSplat> s = scan(c);
        assertEquals(1, s.size());
        assertTrue(s.getFirst().report().contains("__x64_sys_ioctl"));
        assertTrue(s.getFirst().report().endsWith("---[ end trace 0000000000000000 ]---"));
        assertTrue(s.getFirst().headline().contains("hmm_mirror_ioctl"));
    }

    @Test
    void twoReportsAreTwoSplats() {
        String c = "WARNING: CPU: 0 PID: 1 at a.c:1 f\n---[ end trace 1 ]---\nBUG: KASAN: use-after-free in g\n";
        List<KernelSplat> s = scan(c);
        assertEquals(List.of("WARNING", "KASAN"), s.stream().map(KernelSplat::kind).toList());
    }
}
