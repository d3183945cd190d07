/*
 * An agent's workspace: the one folder its file tools (read_file, write_file,
 * list_files) may touch. Internal to src/tools/.
 *
 * Every path is relative to the workspace. Absolute paths and ".." components
 * are refused before anything is opened; what is opened is resolved by the
 * kernel beneath the workspace (openat2 with RESOLVE_BENEATH), so a symlink
 * inside the workspace cannot lead outside it.
 *
 * Errors carry a message for the model that names the path as given:
 *   FM_EPERM     the path leaves the workspace ("Paths must stay inside ...")
 *   FM_ENOTFOUND no such file or folder
 *   FM_EINVAL    a folder where a file is wanted, a file that is not text ...
 *   FM_EIO       anything else the system refused
 */
#ifndef FIRMA_TOOLS_WORKSPACE_H
#define FIRMA_TOOLS_WORKSPACE_H

#include "firma/base.h"
#include "firma/errors.h"

#include <stdbool.h>
#include <sys/types.h>

#define FM_WS_READ_MAX (256 * 1024) /* read_file shows at most this many bytes */
#define FM_WS_LIST_MAX 500          /* list_files shows at most this many entries */

/* Creates the workspace `ws` (an absolute path), and the folders above it,
 * with mode 0700 where missing. The other calls here do it themselves. */
int fm__ws_make(const char *ws, fm_error *err);

/* Appends the file's text (at most FM_WS_READ_MAX bytes, cut on a character
 * boundary; *cut says whether it was cut) to `out`. `ws` is the workspace's
 * absolute path; it is created (mode 0700) if missing. */
int fm__ws_read(const char *ws, const char *path, fm_buf *out, bool *cut, fm_error *err);

/* Writes `text` to the file, replacing it, creating parent folders (0700) and
 * the file (0600) as needed. */
int fm__ws_write(const char *ws, const char *path, const char *text, size_t len, fm_error *err);

/* Appends one line per entry under the folder `path` ("." for all), depth
 * first in name order: "kb/" for a folder, "kb/x.md (12 bytes)" for a file,
 * paths relative to the workspace; at most FM_WS_LIST_MAX entries. */
int fm__ws_list(const char *ws, const char *path, fm_buf *out, fm_error *err);

/* Opens `rel` beneath the directory fd `root` (flags as for openat; O_CLOEXEC
 * is added). Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); where the
 * kernel lacks it (ENOSYS), or when `walk` is set (for tests), walks the
 * components with openat(O_NOFOLLOW), which refuses every symlink. Returns a
 * descriptor, or -errno: -EXDEV or -ELOOP when the path would leave `root`. */
int fm__ws_open(int root, const char *rel, int flags, mode_t mode, bool walk);

#endif
