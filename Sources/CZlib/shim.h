// zlib, for the browser test's PNG reader (test code only; the product does not link it).
#include <zlib.h>
