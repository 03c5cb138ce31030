/* blob.S: the compressed appliance and the qemu that runs it, linked into
 * ferry as read-only data. The build passes the file names as KERNEL_ZST,
 * INITRD_ZST, KERNEL_VERSION, QEMU_ZST, BIOS_ZST and QEMU_VERSION (see the
 * Makefile); STATE_ZST and STATE_SIG are the saved appliance (empty files
 * when there is none). */
    .section .rodata.ferry_appliance, "a"
    .balign 64
    .global ferry_kernel_zst, ferry_kernel_zst_end
ferry_kernel_zst:
    .incbin KERNEL_ZST
ferry_kernel_zst_end:
    .balign 64
    .global ferry_initrd_zst, ferry_initrd_zst_end
ferry_initrd_zst:
    .incbin INITRD_ZST
ferry_initrd_zst_end:
    .global ferry_kernel_version
ferry_kernel_version:
    .incbin KERNEL_VERSION
    .byte 0
    .balign 64
    .global ferry_qemu_zst, ferry_qemu_zst_end
ferry_qemu_zst:
    .incbin QEMU_ZST
ferry_qemu_zst_end:
    .balign 64
    .global ferry_bios_zst, ferry_bios_zst_end
ferry_bios_zst:
    .incbin BIOS_ZST
ferry_bios_zst_end:
    .global ferry_qemu_version
ferry_qemu_version:
    .incbin QEMU_VERSION
    .byte 0
    .balign 64
    .global ferry_state_zst, ferry_state_zst_end
ferry_state_zst:
    .incbin STATE_ZST
ferry_state_zst_end:
    .global ferry_state_sig
ferry_state_sig:
    .incbin STATE_SIG
    .byte 0
    .section .note.GNU-stack, "", @progbits
