/*
 * The file tools' confinement (see workspace.h). Two lines of defence:
 *  1. a lexical check: relative, no ".." component;
 *  2. the kernel: every open goes through fm__ws_open, which resolves the
 *     path beneath a descriptor of the workspace, so symlinks (planted by the
 *     agent through exec, or by anyone) cannot lead out, and nothing depends
 *     on the workspace's own path staying put between check and use.
 * Paths are never joined to the workspace's absolute path and opened by
 * name; only the workspace itself is opened that way.
 */
#include "tools/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LIST_DEPTH_MAX 64

/* ---- opening beneath a folder ----------------------------------------------------- */

/* The component walk: every component opened with O_NOFOLLOW, so any symlink
 * is refused (ELOOP), even one that stays inside. Used where openat2 is not. */
static int open_walk(int root, const char *rel, int flags, mode_t mode)
{
    int cur = -1, fd = INT_MIN;
    for (const char *p = rel; *p && fd == INT_MIN;) {
        size_t n = strcspn(p, "/");
        const char *next = p + n + (p[n] == '/');
        while (*next == '/')
            next++;
        if (n == 0 || (n == 1 && p[0] == '.')) {
            p = next;
            continue;
        }
        char *comp = fm_xstrndup(p, n);
        int at = cur >= 0 ? cur : root;
        if (strcmp(comp, "..") == 0) {
            fd = -EXDEV;
        } else if (!*next) {
            fd = openat(at, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            fd = fd >= 0 ? fd : -errno;
        } else {
            int d = openat(at, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            if (d < 0)
                fd = -errno;
            /* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR; it is a link. */
            if (d < 0 && fd == -ENOTDIR && fstatat(at, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                fd = -ELOOP;
            if (cur >= 0)
                close(cur);
            cur = d;
        }
        free(comp);
        p = next;
    }
    if (fd == INT_MIN) { /* only "." components (or a trailing one): the folder reached */
        fd = openat(cur >= 0 ? cur : root, ".", flags | O_CLOEXEC, mode);
        fd = fd >= 0 ? fd : -errno;
    }
    if (cur >= 0)
        close(cur);
    return fd;
}

int fm__ws_open(int root, const char *rel, int flags, mode_t mode, bool walk)
{
    if (!walk) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, root, rel, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != ENOSYS)
            return -errno;
    }
    return open_walk(root, rel, flags, mode);
}

/* ---- checks and messages ---------------------------------------------------------- */

static int outside(const char *path, fm_error *err)
{
    return fm_error_set(err, FM_EPERM, "Paths must stay inside your workspace: %s", path);
}

/* Relative, no "..": refused before the kernel is asked. */
static int check_path(const char *path, fm_error *err)
{
    if (!path || !*path)
        return fm_error_set(err, FM_EINVAL, "A path is needed ('.' for the whole workspace)");
    if (path[0] == '/')
        return outside(path, err);
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return outside(path, err);
        p += n;
        p += *p == '/';
    }
    return FM_OK;
}

/* Turns an open's -errno into the model's message. */
static int open_error(int neg_errno, const char *path, bool want_dir, fm_error *err)
{
    switch (-neg_errno) {
    case EXDEV:
    case ELOOP:
        return outside(path, err);
    case ENOENT:
        return fm_error_set(err, FM_ENOTFOUND, "No %s %s in your workspace",
                            want_dir ? "folder" : "file", path);
    case ENOTDIR:
        return want_dir ? fm_error_set(err, FM_EINVAL, "%s is a file, not a folder; use read_file",
                                       path)
                        : fm_error_set(err, FM_ENOTFOUND, "No file %s in your workspace", path);
    case EISDIR:
        return fm_error_set(err, FM_EINVAL, "%s is a folder; use list_files", path);
    case EACCES:
    case EPERM:
        return fm_error_set(err, FM_EPERM, "You may not open %s", path);
    default:
        return fm_error_set(err, FM_EIO, "Could not open %s: %s", path, strerror(-neg_errno));
    }
}

/* mkdir -p for the workspace itself (an absolute path the runtime chose). */
static int make_dirs(const char *dir)
{
    char *p = fm_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -errno;
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

int fm__ws_make(const char *ws, fm_error *err)
{
    if (!ws || ws[0] != '/')
        return fm_error_set(err, FM_EINVAL, "the workspace must be an absolute path");
    int rc = make_dirs(ws);
    if (rc != 0)
        return fm_error_set(err, FM_EIO, "Could not create your workspace: %s", strerror(-rc));
    return FM_OK;
}

static int open_workspace(const char *ws, int *fd, fm_error *err)
{
    int rc = fm__ws_make(ws, err);
    if (rc != FM_OK)
        return rc;
    if ((*fd = open(ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return fm_error_set(err, FM_EIO, "Could not open your workspace: %s", strerror(errno));
    return FM_OK;
}

/* ---- read_file -------------------------------------------------------------------- */

static int read_capped(int fd, const char *path, fm_buf *out, bool *cut, fm_error *err)
{
    size_t start = out->len, total = 0;
    char chunk[16384];
    *cut = false;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fm_error_set(err, FM_EIO, "Could not read %s: %s", path, strerror(errno));
        if (n == 0)
            break;
        size_t take = (size_t)n;
        if (total + take > FM_WS_READ_MAX) {
            take = FM_WS_READ_MAX - total;
            *cut = true;
        }
        fm_buf_add(out, chunk, take);
        total += take;
        if (*cut)
            break;
    }
    if (!out->ptr)
        fm_buf_adds(out, "");
    if (*cut) { /* a cut inside a character drops it */
        out->len = start + fm_utf8_whole(out->ptr + start, out->len - start);
        out->ptr[out->len] = '\0';
    }
    size_t bad;
    if (!fm_utf8_valid(out->ptr + start, out->len - start, &bad)) {
        out->len = start;
        out->ptr[start] = '\0';
        return fm_error_set(err, FM_EINVAL, "%s is not a text file (byte %zu is not UTF-8)", path,
                            bad);
    }
    return FM_OK;
}

int fm__ws_read(const char *ws, const char *path, fm_buf *out, bool *cut, fm_error *err)
{
    int root = -1, fd = -1;
    int rc = check_path(path, err);
    if (rc == FM_OK)
        rc = open_workspace(ws, &root, err);
    /* O_NONBLOCK: opening a FIFO someone planted must not hang the run. */
    if (rc == FM_OK && (fd = fm__ws_open(root, path, O_RDONLY | O_NONBLOCK, 0, false)) < 0)
        rc = open_error(fd, path, false, err);
    struct stat st;
    if (rc == FM_OK && fstat(fd, &st) != 0)
        rc = fm_error_set(err, FM_EIO, "Could not read %s: %s", path, strerror(errno));
    if (rc == FM_OK && S_ISDIR(st.st_mode))
        rc = fm_error_set(err, FM_EINVAL, "%s is a folder; use list_files", path);
    else if (rc == FM_OK && !S_ISREG(st.st_mode))
        rc = fm_error_set(err, FM_EINVAL, "%s is not a regular file", path);
    if (rc == FM_OK)
        rc = read_capped(fd, path, out, cut, err);
    if (fd >= 0)
        close(fd);
    if (root >= 0)
        close(root);
    return rc;
}

/* ---- write_file ------------------------------------------------------------------- */

/* Creates the folders leading to `path`, each opened beneath the workspace
 * before the next is made inside it. */
static int make_parents(int root, const char *path, fm_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return FM_OK;
    char *dir = fm_xstrndup(path, (size_t)(slash - path));
    int rc = FM_OK, cur = dup(root);
    for (char *s = dir; rc == FM_OK && cur >= 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        int fd = fm__ws_open(root, dir, O_RDONLY | O_DIRECTORY, 0, false);
        if (fd == -ENOENT && *name && mkdirat(cur, name, 0700) != 0 && errno != EEXIST)
            fd = -errno;
        else if (fd == -ENOENT)
            fd = fm__ws_open(root, dir, O_RDONLY | O_DIRECTORY, 0, false);
        if (fd < 0)
            rc = open_error(fd, path, true, err);
        close(cur);
        cur = fd;
        if (end)
            break;
        *s = '/';
    }
    if (cur >= 0)
        close(cur);
    free(dir);
    return rc;
}

static int write_all(int fd, const char *path, const char *text, size_t len, fm_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fm_error_set(err, FM_EIO, "Could not write %s: %s", path, strerror(errno));
        text += n;
        len -= (size_t)n;
    }
    return FM_OK;
}

int fm__ws_write(const char *ws, const char *path, const char *text, size_t len, fm_error *err)
{
    int root = -1, fd = -1;
    int rc = check_path(path, err);
    if (rc == FM_OK)
        rc = open_workspace(ws, &root, err);
    if (rc == FM_OK)
        rc = make_parents(root, path, err);
    /* O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of hanging. */
    if (rc == FM_OK && (fd = fm__ws_open(root, path, O_WRONLY | O_CREAT | O_NONBLOCK, 0600,
                                         false)) < 0)
        rc = open_error(fd, path, false, err);
    struct stat st;
    if (rc == FM_OK && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)))
        rc = fm_error_set(err, FM_EINVAL, "%s is not a regular file", path);
    if (rc == FM_OK && ftruncate(fd, 0) != 0) /* after the checks, so a FIFO is left alone */
        rc = fm_error_set(err, FM_EIO, "Could not write %s: %s", path, strerror(errno));
    if (rc == FM_OK)
        rc = write_all(fd, path, text, len, err);
    if (fd >= 0 && close(fd) != 0 && rc == FM_OK)
        rc = fm_error_set(err, FM_EIO, "Could not write %s: %s", path, strerror(errno));
    if (root >= 0)
        close(root);
    return rc;
}

/* ---- list_files ------------------------------------------------------------------- */

typedef struct lister {
    fm_buf *out;
    size_t count;
    bool cut;
} lister;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a folder (not . and ..), sorted. */
static char **read_names(int dfd, size_t *n)
{
    *n = 0;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = fm_xreallocarray(v, cap, sizeof *v);
        }
        v[(*n)++] = fm_xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_names);
    return v;
}

/* Lists the folder `dfd`, whose path relative to the workspace is `prefix`
 * ("" or "kb/"). Symlinks are shown, never followed. */
static void list_dir(lister *l, int dfd, const char *prefix, int depth)
{
    size_t n;
    char **names = read_names(dfd, &n);
    for (size_t i = 0; i < n; i++) {
        if (l->count == FM_WS_LIST_MAX) {
            l->cut = true;
            break;
        }
        struct stat st;
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        l->count++;
        if (S_ISDIR(st.st_mode)) {
            fm_buf_addf(l->out, "%s%s/\n", prefix, names[i]);
            int sub = depth < LIST_DEPTH_MAX
                          ? openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                          : -1;
            if (sub >= 0) {
                char *p = fm_xasprintf("%s%s/", prefix, names[i]);
                list_dir(l, sub, p, depth + 1);
                free(p);
                close(sub);
            }
        } else if (S_ISLNK(st.st_mode)) {
            fm_buf_addf(l->out, "%s%s (symlink)\n", prefix, names[i]);
        } else {
            fm_buf_addf(l->out, "%s%s (%lld bytes)\n", prefix, names[i], (long long)st.st_size);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* "kb/./sub//" -> "kb/sub/"; "." -> "". */
static char *display_prefix(const char *path)
{
    fm_buf b = FM_BUF_INIT;
    fm_buf_adds(&b, "");
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n && !(n == 1 && p[0] == '.')) {
            fm_buf_add(&b, p, n);
            fm_buf_addc(&b, '/');
        }
        p += n;
        p += *p == '/';
    }
    return fm_buf_detach(&b);
}

int fm__ws_list(const char *ws, const char *path, fm_buf *out, fm_error *err)
{
    int root = -1, fd = -1;
    int rc = check_path(path, err);
    if (rc == FM_OK)
        rc = open_workspace(ws, &root, err);
    if (rc == FM_OK && (fd = fm__ws_open(root, path, O_RDONLY | O_DIRECTORY, 0, false)) < 0)
        rc = open_error(fd, path, true, err);
    if (rc == FM_OK) {
        lister l = {.out = out};
        char *prefix = display_prefix(path);
        size_t start = out->len;
        list_dir(&l, fd, prefix, 0);
        free(prefix);
        if (out->len == start)
            fm_buf_addf(out, "(%s is empty)\n", path);
        if (l.cut)
            fm_buf_addf(out, "(cut at %d entries; list a subfolder to see more)\n",
                        FM_WS_LIST_MAX);
    }
    if (fd >= 0)
        close(fd);
    if (root >= 0)
        close(root);
    return rc;
}
