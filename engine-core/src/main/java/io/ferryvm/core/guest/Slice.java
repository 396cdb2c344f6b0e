package io.ferryvm.core.guest;

/** The pages a vCPU owns: vCPU i of n gets an equal share of [firstPage, firstPage + pages), the last the rest. */
record Slice(long firstPage, long pages) {
    static Slice of(long firstPage, long pages, int vcpu, int vcpus) {
        long per = pages / vcpus;
        long first = firstPage + per * vcpu;
        long n = vcpu == vcpus - 1 ? pages - per * (vcpus - 1) : per;
        return new Slice(first, n);
    }

    long address(long pageInSlice) {
        return (firstPage + pageInSlice) << 12;
    }
}
