/*
 * Ferry's QEMU test guest: a 512-byte x86 boot sector (after QEMU's tests/migration a-b-bootblock.S).
 * Built at test time with the machine's binutils:
 *   as --32 -defsym WALK_START=0x100000 -defsym WALK_END=0x3000000 -defsym FILL=0 -o g.o pagewalk-bootblock.S
 *   ld -m elf_i386 -Ttext 0x7c00 --oformat binary -e start -o g.bin g.o
 * It enters 32-bit protected mode, prints "FERRY-GUEST\n" on COM1, zeroes byte 0 of every 4 KiB page of
 * [WALK_START, WALK_END) (after filling the range with random data when FILL=1), then forever increments byte 0 of each page in ascending order and prints 'B'
 * after every 64th pass. So at any instant memory is "a prefix at c+1, a suffix at c" (mod 256): the rule
 * PageWalkRule checks after a migration.
 */
        .code16
        .globl start
start:
        cli
        xorw %ax, %ax
        movw %ax, %ds
        lgdtl gdtdesc
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $8, $pm

        .code32
pm:
        movw $16, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        movl $0x7c00, %esp
        inb $0x92, %al          /* fast A20: without it odd megabytes alias even ones */
        orb $2, %al
        outb %al, $0x92
        movl $banner, %esi
1:      lodsb
        testb %al, %al
        jz 2f
        call putc
        jmp 1b
2:
.if FILL
        /* FILL=1: random (xorshift32) page contents first, so every re-dirtied page is incompressible. */
        movl $WALK_START, %edi
        movl $2463534242, %ecx
4:      movl %ecx, %eax
        shll $13, %eax
        xorl %eax, %ecx
        movl %ecx, %eax
        shrl $17, %eax
        xorl %eax, %ecx
        movl %ecx, %eax
        shll $5, %eax
        xorl %eax, %ecx
        movl %ecx, (%edi)
        addl $4, %edi
        cmpl $WALK_END, %edi
        jb 4b
.endif
        movl $WALK_START, %eax
3:      movb $0, (%eax)
        addl $4096, %eax
        cmpl $WALK_END, %eax
        jb 3b
        xorl %ebx, %ebx
outer:  movl $WALK_START, %eax
inner:  incb (%eax)
        addl $4096, %eax
        cmpl $WALK_END, %eax
        jb inner
        incl %ebx
        testl $0x3f, %ebx
        jnz outer
        movb $'B', %al
        call putc
        jmp outer

putc:   movw $0x3f8, %dx
        outb %al, %dx
        ret

banner: .asciz "FERRY-GUEST\n"

        .p2align 3
gdt:    .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: flat 4 GiB code */
        .quad 0x00cf92000000ffff        /* 0x10: flat 4 GiB data */
gdtdesc:
        .word gdtdesc - gdt - 1
        .long gdt

        .org 510
        .byte 0x55, 0xaa
