/* bytecode: a switch-dispatched stack machine interpreting a small program (loops, arithmetic,
   locals, calls and returns), the shape of a scripting language's inner loop. */
#include "suite.h"

enum { HALT, PUSH, LOAD, STORE, ADD, SUB, MUL, AND, XOR, SHL, SHR, DUP, DROP, SWAP, LT, JNZ, JMP, CALL, RET,
       INC, MOD, NOT, OVER };

static int32_t stack[256], locals[16];
static uint32_t rstack[64];

/* The program is assembled at run time (labels are easier to get right). */
static int32_t code[128];

static uint32_t assemble(void)
{
    uint32_t p = 0;
#define E(x) code[p++] = (x)
    E(PUSH); E(0); E(STORE); E(0);
    E(PUSH); E(7); E(STORE); E(1);
    uint32_t loop = p;
    E(LOAD); E(1); E(LOAD); E(0); E(CALL); uint32_t fix_call = p; E(0); E(STORE); E(1);
    E(PUSH); E(0); E(STORE); E(2);
    uint32_t inner = p;
    E(LOAD); E(1); E(LOAD); E(2); E(XOR); E(PUSH); E(3); E(SHL); E(LOAD); E(1); E(ADD); E(STORE); E(1);
    E(LOAD); E(2); E(INC); E(DUP); E(STORE); E(2); E(PUSH); E(5); E(LT); E(JNZ); E((int32_t)inner);
    E(LOAD); E(0); E(INC); E(DUP); E(STORE); E(0); E(LOAD); E(3); E(LT); E(JNZ); E((int32_t)loop);
    E(LOAD); E(1); E(HALT);
    /* f(acc, i) = ((acc * 33) ^ (acc >> 5)) + i % 13, subroutine */
    code[fix_call] = (int32_t)p;
    E(SWAP); E(DUP); E(PUSH); E(33); E(MUL); E(SWAP); E(PUSH); E(5); E(SHR); E(XOR);
    E(SWAP); E(PUSH); E(13); E(MOD); E(ADD); E(NOT); E(NOT); E(RET);
#undef E
    return p;
}

__attribute__((noinline)) static int32_t run(const int32_t *c, int32_t k)
{
    int32_t *sp = stack;
    uint32_t *rp = rstack;
    uint32_t pc = 0;
    locals[3] = k;
    for (;;) {
        int32_t op = c[pc++];
        switch (op) {
        case HALT: return sp[-1];
        case PUSH: *sp++ = c[pc++]; break;
        case LOAD: *sp++ = locals[c[pc++]]; break;
        case STORE: locals[c[pc++]] = *--sp; break;
        case ADD: sp--; sp[-1] += sp[0]; break;
        case SUB: sp--; sp[-1] -= sp[0]; break;
        case MUL: sp--; sp[-1] *= sp[0]; break;
        case AND: sp--; sp[-1] &= sp[0]; break;
        case XOR: sp--; sp[-1] ^= sp[0]; break;
        case SHL: sp--; sp[-1] = (int32_t)((uint32_t)sp[-1] << (sp[0] & 31)); break;
        case SHR: sp--; sp[-1] = (int32_t)((uint32_t)sp[-1] >> (sp[0] & 31)); break;
        case DUP: sp[0] = sp[-1]; sp++; break;
        case DROP: sp--; break;
        case SWAP: { int32_t t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = t; break; }
        case OVER: sp[0] = sp[-2]; sp++; break;
        case LT: sp--; sp[-1] = sp[-1] < sp[0]; break;
        case JNZ: { int32_t t = c[pc++]; if (*--sp) pc = (uint32_t)t; break; }
        case JMP: pc = (uint32_t)c[pc]; break;
        case CALL: *rp++ = pc + 1; pc = (uint32_t)c[pc]; break;
        case RET: pc = *--rp; break;
        case INC: sp[-1]++; break;
        case MOD: sp--; sp[-1] = (int32_t)((uint32_t)sp[-1] % (uint32_t)sp[0]); break;
        case NOT: sp[-1] = ~sp[-1]; break;
        default: return -1;
        }
    }
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    assemble();
    for (uint32_t it = 0; it < n; it++) {
        code[1] = (int32_t)(it & 3);
        check = mix32(check, (uint32_t)run(code, 700));
    }
    report("bytecode", n, check);
    return 0;
}
