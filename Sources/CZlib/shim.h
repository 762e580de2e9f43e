// zlib: gzip-transparent file reading (gzopen reads plain files too) and crc32 for checksums.
#include <zlib.h>
