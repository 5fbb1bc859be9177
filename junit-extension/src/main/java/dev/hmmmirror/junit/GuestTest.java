package dev.hmmmirror.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test methods of a class inside a QEMU guest that booted the kernel of the selected
 * profile ({@code -Dhmm.kernel=debian-sid|debian-trixie|debian-bookworm}) with hmm_mirror.ko
 * loaded. The host test passes, fails or is skipped as the guest test did; failures carry the
 * guest's stack trace, the dmesg tail and the console log path. A kernel report (Oops, BUG,
 * WARNING, KASAN, lockdep, hung task) during a test fails it.
 *
 * <p>All lifecycle methods ({@code @BeforeAll}, {@code @BeforeEach}, ...) run in the guest only.
 * The class is instantiated on the host too, so keep guest resources out of field initializers.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(GuestExtension.class)
@Tag("guest")
public @interface GuestTest {}
