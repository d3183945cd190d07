/*
 * The installation's master key and the sub-keys derived from it. The key
 * file is created with O_EXCL and mode 0600, and refused later if anyone but
 * its owner can read it: a secret store whose key is world-readable is not one.
 */
#include "firma/base.h"
#include "firma/governance.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDF_CTX "firmakey"
enum { SUBKEY_SEAL = 1, SUBKEY_SIGN = 2 };

static int from_hex(const char *hex, unsigned char master[32])
{
    size_t bin_len = 0;
    const char *end;
    if (sodium_hex2bin(master, 32, hex, strlen(hex), NULL, &bin_len, &end) != 0 || bin_len != 32 ||
        *end)
        return FM_EINVAL;
    return FM_OK;
}

static int read_key_file(const char *path, unsigned char master[32], fm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FM_ENOTFOUND
                               : fm_error_set(err, FM_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    char hex[80] = {0};
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && !(st.st_mode & 077))
        n = read(fd, hex, sizeof hex - 1);
    close(fd);
    if (st.st_mode & 077)
        return fm_error_set(err, FM_EPERM,
                            "%s: key file is readable by others (mode %03o); run chmod 600 %s",
                            path, (unsigned)(st.st_mode & 0777), path);
    if (n < 64)
        return fm_error_set(err, FM_ECRYPTO, "%s: not a firma key file (want 64 hex digits)",
                            path);
    hex[64] = '\0';
    if (from_hex(hex, master) != FM_OK)
        return fm_error_set(err, FM_ECRYPTO, "%s: not a firma key file (want 64 hex digits)",
                            path);
    return FM_OK;
}

static int create_key_file(const char *path, unsigned char master[32], fm_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fm_error_set(err, FM_EIO, "%s: cannot create key file: %s", path, strerror(errno));
    randombytes_buf(master, 32);
    char hex[66];
    sodium_bin2hex(hex, 65, master, 32);
    hex[64] = '\n';
    ssize_t n = write(fd, hex, 65);
    int ok = n == 65 && fsync(fd) == 0;
    close(fd);
    sodium_memzero(hex, sizeof hex);
    if (!ok) {
        unlink(path);
        return fm_error_set(err, FM_EIO, "%s: cannot write key file", path);
    }
    return FM_OK;
}

static void derive(const unsigned char master[32], fm_keys *k)
{
    crypto_kdf_derive_from_key(k->seal, sizeof k->seal, SUBKEY_SEAL, KDF_CTX, master);
    unsigned char seed[crypto_sign_SEEDBYTES];
    crypto_kdf_derive_from_key(seed, sizeof seed, SUBKEY_SIGN, KDF_CTX, master);
    crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
    sodium_memzero(seed, sizeof seed);
}

int fm_keys_load(const char *key_file, const char *db_path, bool create, fm_keys *out,
                 fm_error *err)
{
    if (sodium_init() < 0)
        return fm_error_set(err, FM_ECRYPTO, "libsodium failed to initialise");
    memset(out, 0, sizeof *out);
    unsigned char master[32];
    const char *env = getenv("FIRMA_MASTER_KEY");
    if (env && *env) {
        if (from_hex(env, master) != FM_OK)
            return fm_error_set(err, FM_ECRYPTO, "FIRMA_MASTER_KEY must be 64 hex digits");
        snprintf(out->source, sizeof out->source, "FIRMA_MASTER_KEY");
    } else {
        if (!key_file || !*key_file)
            key_file = getenv("FIRMA_KEY_FILE");
        char *dflt = NULL;
        if (!key_file || !*key_file)
            key_file = dflt = fm_xasprintf("%s.key", db_path);
        snprintf(out->source, sizeof out->source, "%s", key_file);
        int rc = read_key_file(key_file, master, err);
        if (rc == FM_ENOTFOUND && create)
            rc = create_key_file(key_file, master, err);
        else if (rc == FM_ENOTFOUND)
            fm_error_set(err, rc, "%s: no key file (and FIRMA_MASTER_KEY is not set)", key_file);
        free(dflt);
        if (rc != FM_OK)
            return rc;
    }
    derive(master, out);
    sodium_memzero(master, sizeof master);
    return FM_OK;
}

void fm_keys_release(fm_keys *k)
{
    if (k)
        sodium_memzero(k, sizeof *k);
}
