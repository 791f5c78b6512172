/* hello: prints a greeting and exercises printf-lite, then exits pass. */
#include "rt.h"
#include "csr.h"

int main(uint32_t hartid, uint32_t dtb)
{
    printf("Hello from Rewind guest 'hello'!\n");
    printf("hart id: %u\n", hartid);
    printf("misa: 0x%08x\n", csr_read(misa));
    printf("decimal: %d %d %u\n", 42, -1234, 4000000000u);
    printf("hex: 0x%x 0x%08X %x\n", 0xbeef, 0xcafe, 0u);
    printf("string: [%s] [%8s] [%-8s] char: %c\n", "rv32", "pad", "left", 'Z');
    int32_t a = 123456789, b = -9876;
    printf("mul: %d  div: %d  rem: %d\n", a * 7, a / b, a % b);
    uint32_t sum = 0;
    for (uint32_t i = 1; i <= 100; i++)
        sum += i * i;
    printf("sum of squares 1..100 = %u\n", sum);
    printf("Goodbye.\n");
    return 0;
}
