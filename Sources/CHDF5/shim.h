// What Swift cannot import from HDF5: its type and property-list identifiers are macros that expand
// to library globals after H5open(), so each is wrapped in a static inline function here.
#ifndef SELECTJOB_CHDF5_SHIM_H
#define SELECTJOB_CHDF5_SHIM_H

#include <hdf5.h>

static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_p_dataset_create(void) { H5open(); return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_link_create(void) { H5open(); return H5P_LINK_CREATE; }

static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }

static inline hid_t chdf5_native_float(void) { H5open(); return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { H5open(); return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int64(void) { H5open(); return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_uint64(void) { H5open(); return H5T_NATIVE_UINT64; }
static inline hid_t chdf5_ieee_f32le(void) { H5open(); return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void) { H5open(); return H5T_IEEE_F64LE; }
static inline hid_t chdf5_std_i64le(void) { H5open(); return H5T_STD_I64LE; }
static inline hid_t chdf5_std_u64le(void) { H5open(); return H5T_STD_U64LE; }
static inline hid_t chdf5_c_s1(void) { H5open(); return H5T_C_S1; }
static inline size_t chdf5_variable(void) { return H5T_VARIABLE; }

/// Turns off HDF5's automatic printing of its error stack to stderr (we fold messages into ours).
static inline void chdf5_silence_errors(void) { H5open(); H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// The outermost and innermost descriptions on HDF5's default error stack, e.g.
/// "unable to open file" and "file signature not found".
typedef struct { char outer[256]; char inner[256]; } chdf5_error_text;

static inline void chdf5_copy_text(char *dst, const char *src) {
    size_t i = 0;
    if (src != NULL) for (; src[i] != '\0' && i < 255; i++) dst[i] = src[i];
    dst[i] = '\0';
}

static inline herr_t chdf5_error_walker(unsigned n, const H5E_error2_t *err, void *client) {
    chdf5_error_text *text = (chdf5_error_text *)client;
    if (n == 0) chdf5_copy_text(text->outer, err->desc);
    chdf5_copy_text(text->inner, err->desc);
    return 0;
}

/// Reads the current error stack of this thread into `text` (empty strings when it is empty).
static inline void chdf5_last_error(chdf5_error_text *text) {
    text->outer[0] = '\0';
    text->inner[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, chdf5_error_walker, text);
}

#endif
