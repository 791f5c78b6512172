/* Sdtrig fields and the macros both trigger tests use (sdtrig.S, sdtrig-qemu-deviation.S). */

#define T_EXEC  4
#define T_STORE 2
#define T_LOAD  1
#define T_U     (1 << 3)
#define T_S     (1 << 4)
#define T_M     (1 << 6)
#define T_TYPE6 (6 << 28)
#define T_HIT0  (1 << 22)
#define MATCH(m) ((m) << 7)
#define TCONTROL_MTE  (1 << 3)
#define TCONTROL_MPTE (1 << 7)

/* ARM idx, tdata1 value, register holding tdata2 */
.macro ARM idx, t1, reg
    csrwi tselect, \idx
    li t0, T_TYPE6
    csrw tdata1, t0
    csrw tdata2, \reg
    li t0, \t1
    csrw tdata1, t0
.endm
/* A trigger that matches nothing (QEMU 7.2 ignores tdata1 = 0, see the deviation file) */
.macro DISARM idx
    csrwi tselect, \idx
    li t0, T_TYPE6
    csrw tdata1, t0
.endm
/* The next trap must be a breakpoint (3) at epc; resume in M at `resume`. (mtval: see the deviation file.) */
.macro EXPECT_BREAK epc, resume, tvalreg
    TRAP_AT 3, 0, \epc, \resume, F_EPC
.endm
/* Same, and mtval = the register's value (the address that matched). */
.macro EXPECT_BREAK_TVAL epc, resume, tvalreg
    TRAP_AT 3, 0, \epc, \resume, (F_TVAL | F_EPC)
    la t6, isa_data
    sw \tvalreg, D_TVAL(t6)
.endm

