/* A stand-in for Windows' bcryptprimitives.dll under Wine 8, which lacks it: Rust's std
 * (1.78 and later) asks it for random bytes (ProcessPrng) at start-up. This one gets them
 * from RtlGenRandom (advapi32's SystemFunction036), which Wine 8 has. Test use only: CI
 * builds it with mingw-w64 and places it beside the cross-built executables it runs. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000 ? 0x10000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
