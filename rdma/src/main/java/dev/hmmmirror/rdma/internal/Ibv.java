package dev.hmmmirror.rdma.internal;

import dev.hmmmirror.rdma.internal.gen.Verbs;
import dev.hmmmirror.rdma.internal.gen.ibv_context;
import dev.hmmmirror.rdma.internal.gen.ibv_context_ops;
import dev.hmmmirror.rdma.internal.gen.ibv_cq;
import dev.hmmmirror.rdma.internal.gen.ibv_qp;
import dev.hmmmirror.rdma.internal.gen.verbs_context;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libibverbs calls of the rdma module, over the jextract output ({@code internal.gen}, never
 * edited): the exported functions through their generated address and descriptor, with errno
 * captured (jextract adds no errno capture); the verbs that are {@code static inline} in
 * {@code verbs.h} ({@code ibv_post_send}, {@code ibv_poll_cq}, {@code ibv_query_device_ex},
 * {@code ibv_advise_mr}) through the function pointers of {@code struct ibv_context_ops} and
 * {@code struct verbs_context}, exactly as the inline functions do (no C shim).
 *
 * <p>Every method returns what the C call returns, with a failed pointer-returning call turned
 * into {@link NativeError}, carrying errno.
 */
public final class Ibv {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** {@code __VERBS_ABI_IS_EXTENDED}: {@code ibv_context.abi_compat} of a context that has a verbs_context. */
    private static final long VERBS_ABI_IS_EXTENDED = -1L;
    /** Where {@code ibv_context.abi_compat} is in this process's architecture (see {@link #abiCompatOffset}). */
    private static final long ABI_COMPAT_OFFSET = abiCompatOffset(System.getProperty("os.arch"));

    private Ibv() {}

    /**
     * The offset of {@code ibv_context.abi_compat} on {@code arch} ({@code os.arch}). The generated layouts
     * are x86-64's, and {@code struct ibv_context} holds a {@code pthread_mutex_t} just before
     * {@code abi_compat}: glibc's is 40 bytes on x86-64 and 48 on aarch64, so there the field is 8 bytes
     * further on (read at the x86-64 offset, every arm64 context looked like one without a
     * {@code verbs_context}: no {@code query_device_ex}, so no On-Demand Paging). Every other field the
     * hand-written code reads comes before such a member or lies in a struct without one.
     */
    public static long abiCompatOffset(String arch) {
        long mutex = switch (arch) {
            case "amd64", "x86_64" -> 40;
            case "aarch64", "arm64" -> 48;
            default -> throw new IllegalStateException("the RDMA bindings know the libibverbs layouts of x86-64 and "
                    + "aarch64 only, not of " + arch + " (its pthread_mutex_t decides where ibv_context.abi_compat is)");
        };
        return ibv_context.mutex$offset() + mutex;
    }

    /** A libibverbs call failed; {@code errno} is positive. */
    public static final class NativeError extends Exception {
        private static final long serialVersionUID = 1L;
        public final int errno;

        NativeError(int errno) {
            super("errno " + errno, null, false, false);
            this.errno = errno;
        }
    }

    /**
     * Loads libibverbs ({@code libibverbs.so.1}); the generated class loads it when first used.
     *
     * @return null when loaded, else why not
     */
    public static String loadError() {
        try {
            Verbs.ibv_get_device_list$address();
            return null;
        } catch (ExceptionInInitializerError | NoClassDefFoundError | IllegalArgumentException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            return String.valueOf(c.getMessage());
        }
    }

    private static MethodHandle capturing(MemorySegment address, FunctionDescriptor fd) {
        return LINKER.downcallHandle(address, fd, Linker.Option.captureCallState("errno"));
    }

    private static final class H {
        static final MethodHandle GET_DEVICE_LIST = capturing(Verbs.ibv_get_device_list$address(),
                Verbs.ibv_get_device_list$descriptor());
        static final MethodHandle OPEN_DEVICE = capturing(Verbs.ibv_open_device$address(),
                Verbs.ibv_open_device$descriptor());
        static final MethodHandle ALLOC_PD = capturing(Verbs.ibv_alloc_pd$address(), Verbs.ibv_alloc_pd$descriptor());
        static final MethodHandle REG_MR = capturing(Verbs.ibv_reg_mr$address(), Verbs.ibv_reg_mr$descriptor());
        static final MethodHandle CREATE_CQ = capturing(Verbs.ibv_create_cq$address(), Verbs.ibv_create_cq$descriptor());
        static final MethodHandle CREATE_QP = capturing(Verbs.ibv_create_qp$address(), Verbs.ibv_create_qp$descriptor());
        static final MethodHandle QUERY_GID = capturing(Verbs.ibv_query_gid$address(), Verbs.ibv_query_gid$descriptor());
        static final MethodHandle QUERY_PORT = capturing(Verbs.ibv_query_port$address(),
                Verbs.ibv_query_port$descriptor());
    }

    private static MemorySegment pointer(MethodHandle h, Object... args) throws NativeError {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            Object[] all = new Object[args.length + 1];
            all[0] = state;
            System.arraycopy(args, 0, all, 1, args.length);
            MemorySegment r = (MemorySegment) h.invokeWithArguments(all);
            if (r.equals(MemorySegment.NULL)) {
                int e = (int) ERRNO.get(state, 0L);
                throw new NativeError(e == 0 ? 5 /* EIO: libibverbs set no errno */ : e);
            }
            return r;
        } catch (NativeError | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** An int-returning call: 0 on success, else a positive errno (returned, or errno when it returned -1). */
    private static int status(MethodHandle h, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            Object[] all = new Object[args.length + 1];
            all[0] = state;
            System.arraycopy(args, 0, all, 1, args.length);
            int r = (int) h.invokeWithArguments(all);
            if (r == 0) {
                return 0;
            }
            int e = (int) ERRNO.get(state, 0L);
            return r > 0 ? r : e != 0 ? e : 5;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code ibv_get_device_list}: the array and its length in {@code count[0]}. */
    public static MemorySegment getDeviceList(Arena arena, int[] count) throws NativeError {
        MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
        MemorySegment list = pointer(H.GET_DEVICE_LIST, n);
        count[0] = n.get(ValueLayout.JAVA_INT, 0);
        return list.reinterpret((long) (count[0] + 1) * ValueLayout.ADDRESS.byteSize());
    }

    public static void freeDeviceList(MemorySegment list) {
        Verbs.ibv_free_device_list(list);
    }

    public static String deviceName(MemorySegment device) {
        return Verbs.ibv_get_device_name(device).reinterpret(256).getString(0);
    }

    public static MemorySegment openDevice(MemorySegment device) throws NativeError {
        return pointer(H.OPEN_DEVICE, device).reinterpret(ibv_context.sizeof());
    }

    public static int closeDevice(MemorySegment context) {
        return Verbs.ibv_close_device(context);
    }

    public static MemorySegment allocPd(MemorySegment context) throws NativeError {
        return pointer(H.ALLOC_PD, context);
    }

    public static int deallocPd(MemorySegment pd) {
        return Verbs.ibv_dealloc_pd(pd);
    }

    public static MemorySegment regMr(MemorySegment pd, long address, long length, int access) throws NativeError {
        return pointer(H.REG_MR, pd, MemorySegment.ofAddress(address), length, access)
                .reinterpret(dev.hmmmirror.rdma.internal.gen.ibv_mr.sizeof());
    }

    public static int deregMr(MemorySegment mr) {
        return Verbs.ibv_dereg_mr(mr);
    }

    public static MemorySegment createCq(MemorySegment context, int entries) throws NativeError {
        return pointer(H.CREATE_CQ, context, entries, MemorySegment.NULL, MemorySegment.NULL, 0)
                .reinterpret(ibv_cq.sizeof());
    }

    public static int destroyCq(MemorySegment cq) {
        return Verbs.ibv_destroy_cq(cq);
    }

    public static MemorySegment createQp(MemorySegment pd, MemorySegment initAttr) throws NativeError {
        return pointer(H.CREATE_QP, pd, initAttr).reinterpret(ibv_qp.sizeof());
    }

    public static int modifyQp(MemorySegment qp, MemorySegment attr, int mask) {
        return Verbs.ibv_modify_qp(qp, attr, mask);
    }

    public static int destroyQp(MemorySegment qp) {
        return Verbs.ibv_destroy_qp(qp);
    }

    /** {@code ibv_query_port} (the exported symbol, which fills the {@code _compat_ibv_port_attr} prefix). */
    public static int queryPort(MemorySegment context, int port, MemorySegment attr) {
        return status(H.QUERY_PORT, context, (byte) port, attr);
    }

    public static int queryGid(MemorySegment context, int port, int index, MemorySegment gid) {
        return status(H.QUERY_GID, context, (byte) port, index, gid);
    }

    public static String wcStatus(int status) {
        return Verbs.ibv_wc_status_str(status).reinterpret(128).getString(0);
    }

    /** {@code ibv_post_send}: {@code qp->context->ops.post_send(qp, wr, bad_wr)}; 0 or a positive errno. */
    public static int postSend(MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        MemorySegment ops = ibv_context.ops(ibv_qp.context(qp).reinterpret(ibv_context.sizeof()));
        return ibv_context_ops.post_send.invoke(ibv_context_ops.post_send(ops), qp, wr, badWr);
    }

    /** {@code ibv_poll_cq}: {@code cq->context->ops.poll_cq(cq, n, wc)}; completions polled, or negative. */
    public static int pollCq(MemorySegment cq, int entries, MemorySegment wc) {
        MemorySegment ops = ibv_context.ops(ibv_cq.context(cq).reinterpret(ibv_context.sizeof()));
        return ibv_context_ops.poll_cq.invoke(ibv_context_ops.poll_cq(ops), cq, entries, wc);
    }

    /**
     * The {@code struct verbs_context} around {@code context} when it has the operation at
     * {@code opOffset} (what {@code verbs_get_ctx_op} checks), else null.
     */
    private static MemorySegment verbsOp(MemorySegment context, long opOffset) {
        if (context.reinterpret(ABI_COMPAT_OFFSET + Long.BYTES).get(ValueLayout.JAVA_LONG, ABI_COMPAT_OFFSET)
                != VERBS_ABI_IS_EXTENDED) {
            return null;
        }
        long base = context.address() - verbs_context.context$offset();
        MemorySegment vctx = MemorySegment.ofAddress(base).reinterpret(verbs_context.sizeof());
        long sz = verbs_context.sz(vctx);
        if (sz < verbs_context.sizeof() - opOffset) {
            return null;
        }
        MemorySegment op = vctx.get(ValueLayout.ADDRESS, opOffset);
        return op.equals(MemorySegment.NULL) ? null : op;
    }

    /**
     * {@code ibv_query_device_ex(context, NULL, attr)} through {@code verbs_context.query_device_ex}.
     *
     * @return 0, a positive errno, or -1 when the provider has no {@code query_device_ex}
     */
    public static int queryDeviceEx(MemorySegment context, MemorySegment attr) {
        MemorySegment op = verbsOp(context, verbs_context.query_device_ex$offset());
        if (op == null) {
            return -1;
        }
        return verbs_context.query_device_ex.invoke(op, context, MemorySegment.NULL, attr, attr.byteSize());
    }

    /**
     * {@code ibv_advise_mr(pd, advice, flags, sg_list, num_sge)} through {@code verbs_context.advise_mr}.
     *
     * @return 0, a positive errno; {@code EOPNOTSUPP} (95) when the provider has no {@code advise_mr}
     */
    public static int adviseMr(MemorySegment context, MemorySegment pd, int advice, int flags, MemorySegment sgList,
            int count) {
        MemorySegment op = verbsOp(context, verbs_context.advise_mr$offset());
        if (op == null) {
            return 95;
        }
        return verbs_context.advise_mr.invoke(op, pd, advice, flags, sgList, count);
    }
}
