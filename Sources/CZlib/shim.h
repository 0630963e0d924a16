// zlib: the HDF5 module inflates deflate-compressed chunks with it in parallel, and the browser
// test's PNG reader decodes screenshots with it.
#include <zlib.h>
