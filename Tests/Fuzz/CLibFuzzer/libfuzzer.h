// libFuzzer's documented entry point for programs that keep their own main (see
// https://llvm.org/docs/LibFuzzer.html#using-libfuzzer-as-a-library). The fuzz targets
// need it because SwiftPM links a Swift executable's entry point as `main`, which hides
// the one in libFuzzer's runtime.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
