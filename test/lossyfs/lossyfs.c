/*
 * lossyfs: a FUSE file system that loses what was not synced when it "loses power".
 *
 * The crash loops run the coordinator on it to prove "answered only once fsynced" for real: a
 * SIGKILL alone keeps every written byte in the kernel's page cache, so a missing fsync passes.
 * In the spirit of Jepsen's LazyFS (not its code), everything lives in this process's memory in
 * two layers:
 *   - the volatile layer is what processes see: file contents and directory entries as written;
 *   - the durable layer is what a power cut keeps: a file's data reaches it on fsync/fdatasync of
 *     that file, a directory's entries (create, rename, unlink, mkdir) on fsync of that directory.
 * Writing "power-fail" to /.lossyfs replaces the volatile layer by the durable one (every unsynced
 * write and namespace change is gone); "power-fail torn SEED" first lets a random prefix of each
 * file's unsynced writes through, in order, the last one possibly cut mid-way, as a kernel that
 * had flushed some dirty pages would.
 * "sync-delay-us N" makes every fsync take that long, as on a real disk. Reading /.lossyfs returns
 * counters and what is unsynced right now as JSON. Single-threaded (-s), kernel caches off (direct_io,
 * zero timeouts) so every read and lookup comes here.
 *
 * Build: scripts/build-lossyfs.sh.  Run: lossyfs MOUNTPOINT -f -s [-o auto_unmount]
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <fuse.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONTROL "/.lossyfs"

typedef struct { char *data; size_t size, cap; } buf_t;

/* One unsynced change to a file's data, kept so a torn power cut can replay a prefix of them. */
typedef struct { int truncate; off_t off; size_t len; char *data; } op_t;

struct node;
typedef struct { char *name; struct node *node; } dent_t;
typedef struct { dent_t *items; size_t n, cap; } dtab_t;

typedef struct node {
  uint64_t ino;
  mode_t mode;
  struct timespec mtime, ctime;
  buf_t vol, dur;
  op_t *log;
  size_t nlog, caplog;
  dtab_t vent, dent;
  int vlinks, dlinks, opens;
  struct node *next;
} node_t;

typedef struct { node_t *node; int flags; int control; } handle_t;

static node_t *root, *all;
static uint64_t next_ino = 2;
/* How long each fsync takes, as on a real disk: it widens the window a kill can land in. */
static unsigned sync_delay_us = 0;
/*
 * SIGUSR1 cuts the power at once: an fsync in progress never completes and, until the "power-fail"
 * command drops the unsynced data and turns it back on, every operation fails as on a dead machine.
 */
static volatile sig_atomic_t power_cut = 0;
static void on_power_cut(int sig) { (void)sig; power_cut = 1; }
#define POWER_ON_OR_EIO() do { if (power_cut) return -EIO; } while (0)
static struct {
  unsigned long long writes, bytes_written, fsyncs, fdatasyncs, dir_fsyncs, power_failures, power_failures_with_unsynced,
      unsynced_writes_dropped, unsynced_bytes_dropped, unsynced_writes_torn_in, unsynced_writes_cut, namespace_changes_dropped;
} st;

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) { perror("lossyfs: out of memory"); exit(1); }
  return q;
}

static void now(struct timespec *t) { clock_gettime(CLOCK_REALTIME, t); }

static int buf_resize(buf_t *b, size_t size) {
  if (size > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < size) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  if (size > b->size) memset(b->data + b->size, 0, size - b->size);
  b->size = size;
  return 0;
}

static void buf_write(buf_t *b, off_t off, const char *data, size_t len) {
  if ((size_t)off + len > b->size) buf_resize(b, (size_t)off + len);
  memcpy(b->data + off, data, len);
}

static void buf_copy(buf_t *to, const buf_t *from) {
  to->size = 0;
  buf_resize(to, from->size);
  if (from->size) memcpy(to->data, from->data, from->size);
}

static void op_apply(buf_t *b, const op_t *op) {
  if (op->truncate) buf_resize(b, (size_t)op->off);
  else buf_write(b, op->off, op->data, op->len);
}

static void log_clear(node_t *n) {
  for (size_t i = 0; i < n->nlog; i++) free(n->log[i].data);
  n->nlog = 0;
}

static void log_push(node_t *n, int truncate, off_t off, const char *data, size_t len) {
  if (n->nlog == n->caplog) {
    n->caplog = n->caplog ? n->caplog * 2 : 16;
    n->log = xrealloc(n->log, n->caplog * sizeof(op_t));
  }
  op_t *op = &n->log[n->nlog++];
  op->truncate = truncate;
  op->off = off;
  op->len = len;
  op->data = NULL;
  if (len) {
    op->data = xrealloc(NULL, len);
    memcpy(op->data, data, len);
  }
}

static node_t *node_new(mode_t mode) {
  node_t *n = calloc(1, sizeof *n);
  if (!n) { perror("lossyfs"); exit(1); }
  n->ino = next_ino++;
  n->mode = mode;
  now(&n->mtime);
  n->ctime = n->mtime;
  n->next = all;
  all = n;
  return n;
}

/* Frees a node's contents once nothing names or holds it, in either layer. */
static void node_maybe_free(node_t *n) {
  if (n == root || n->vlinks > 0 || n->dlinks > 0 || n->opens > 0) return;
  log_clear(n);
  free(n->log);
  free(n->vol.data);
  free(n->dur.data);
  for (size_t i = 0; i < n->vent.n; i++) free(n->vent.items[i].name);
  for (size_t i = 0; i < n->dent.n; i++) free(n->dent.items[i].name);
  free(n->vent.items);
  free(n->dent.items);
  for (node_t **p = &all; *p; p = &(*p)->next) {
    if (*p == n) { *p = n->next; break; }
  }
  free(n);
}

static dent_t *dtab_find(dtab_t *t, const char *name) {
  for (size_t i = 0; i < t->n; i++) if (strcmp(t->items[i].name, name) == 0) return &t->items[i];
  return NULL;
}

static void dtab_add(dtab_t *t, const char *name, node_t *node) {
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 8;
    t->items = xrealloc(t->items, t->cap * sizeof(dent_t));
  }
  t->items[t->n].name = strdup(name);
  t->items[t->n].node = node;
  t->n++;
}

static void dtab_remove(dtab_t *t, dent_t *d) {
  free(d->name);
  *d = t->items[--t->n];
}

/* Replaces `to` by a copy of `from`, moving the link counts of the layer it belongs to. */
static void dtab_assign(dtab_t *to, const dtab_t *from, int durable) {
  for (size_t i = 0; i < to->n; i++) {
    if (durable) to->items[i].node->dlinks--;
    else to->items[i].node->vlinks--;
    free(to->items[i].name);
  }
  to->n = 0;
  for (size_t i = 0; i < from->n; i++) {
    dtab_add(to, from->items[i].name, from->items[i].node);
    if (durable) from->items[i].node->dlinks++;
    else from->items[i].node->vlinks++;
  }
}

static size_t dtab_differences(const dtab_t *a, const dtab_t *b) {
  size_t diff = 0;
  for (size_t i = 0; i < a->n; i++) {
    dent_t *d = dtab_find((dtab_t *)b, a->items[i].name);
    if (!d || d->node != a->items[i].node) diff++;
  }
  for (size_t i = 0; i < b->n; i++) if (!dtab_find((dtab_t *)a, b->items[i].name)) diff++;
  return diff;
}

/* Resolves a path in the volatile layer. With parent_out, resolves the parent and returns the last name. */
static node_t *resolve(const char *path) {
  node_t *n = root;
  char *copy = strdup(path), *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    if (!S_ISDIR(n->mode)) { n = NULL; break; }
    dent_t *d = dtab_find(&n->vent, part);
    if (!d) { n = NULL; break; }
    n = d->node;
  }
  free(copy);
  return n;
}

static node_t *resolve_parent(const char *path, char *name, size_t name_size) {
  const char *slash = strrchr(path, '/');
  if (!slash || strlen(slash + 1) == 0 || strlen(slash + 1) >= name_size) return NULL;
  snprintf(name, name_size, "%s", slash + 1);
  char *dir = strndup(path, (size_t)(slash - path));
  node_t *parent = resolve(*dir ? dir : "/");
  free(dir);
  return parent && S_ISDIR(parent->mode) ? parent : NULL;
}

static size_t pending_writes(void) {
  size_t n = 0;
  for (node_t *x = all; x; x = x->next) n += x->nlog;
  return n;
}

static size_t pending_namespace(void) {
  size_t n = 0;
  for (node_t *x = all; x; x = x->next) if (S_ISDIR(x->mode)) n += dtab_differences(&x->vent, &x->dent);
  return n;
}

/* Appends the volatile paths under `dir` with unsynced writes, and the names whose entries are not durable. */
static void pending_paths(FILE *out, node_t *dir, const char *prefix, int *first) {
  for (size_t i = 0; i < dir->vent.n; i++) {
    dent_t *d = &dir->vent.items[i];
    dent_t *durable = dtab_find(&dir->dent, d->name);
    int name_pending = !durable || durable->node != d->node;
    if (name_pending || d->node->nlog > 0) {
      size_t bytes = 0;
      for (size_t k = 0; k < d->node->nlog; k++) bytes += d->node->log[k].len;
      fprintf(out, "%s{\"path\":\"%s/%s\",\"writes\":%zu,\"bytes\":%zu,\"name_durable\":%s}", *first ? "" : ",", prefix, d->name,
              d->node->nlog, bytes, name_pending ? "false" : "true");
      *first = 0;
    }
    if (S_ISDIR(d->node->mode)) {
      char *sub = NULL;
      if (asprintf(&sub, "%s/%s", prefix, d->name) < 0) continue;
      pending_paths(out, d->node, sub, first);
      free(sub);
    }
  }
}

/* The counters, and what is unsynced right now, as one line of JSON (the caller frees it). */
static char *stats_json(size_t *len) {
  char *text = NULL;
  FILE *out = open_memstream(&text, len);
  fprintf(out,
          "{\"writes\":%llu,\"bytes_written\":%llu,\"fsyncs\":%llu,\"fdatasyncs\":%llu,\"dir_fsyncs\":%llu,"
          "\"power_failures\":%llu,\"power_failures_with_unsynced\":%llu,\"unsynced_writes_dropped\":%llu,"
          "\"unsynced_bytes_dropped\":%llu,\"unsynced_writes_torn_in\":%llu,\"unsynced_writes_cut\":%llu,\"namespace_changes_dropped\":%llu,"
          "\"pending_unsynced_writes\":%zu,\"pending_namespace_changes\":%zu,\"pending\":[",
          st.writes, st.bytes_written, st.fsyncs, st.fdatasyncs, st.dir_fsyncs, st.power_failures, st.power_failures_with_unsynced,
          st.unsynced_writes_dropped, st.unsynced_bytes_dropped, st.unsynced_writes_torn_in, st.unsynced_writes_cut, st.namespace_changes_dropped,
          pending_writes(), pending_namespace());
  int first = 1;
  pending_paths(out, root, "", &first);
  fprintf(out, "]}\n");
  fclose(out);
  return text;
}

/* The power cut: everything not made durable is gone (or, torn, partly through). */
static void power_fail(int torn, unsigned seed) {
  srand(seed);
  size_t writes = pending_writes(), names = pending_namespace();
  st.power_failures++;
  if (writes > 0 || names > 0) st.power_failures_with_unsynced++;
  st.namespace_changes_dropped += names;
  for (node_t *n = all; n; n = n->next) {
    if (S_ISDIR(n->mode)) continue;
    size_t keep = torn && n->nlog > 0 ? (size_t)rand() % (n->nlog + 1) : 0;
    for (size_t i = 0; i < n->nlog; i++) {
      if (i < keep) { op_apply(&n->dur, &n->log[i]); st.unsynced_writes_torn_in++; }
      else if (!n->log[i].truncate) { st.unsynced_writes_dropped++; st.unsynced_bytes_dropped += n->log[i].len; }
    }
    /* The next write may be cut mid-way, as a page written back before the power went. */
    if (torn && keep < n->nlog && !n->log[keep].truncate && n->log[keep].len > 1) {
      op_t part = n->log[keep];
      part.len = 1 + (size_t)rand() % (part.len - 1);
      op_apply(&n->dur, &part);
      st.unsynced_writes_cut++;
    }
    log_clear(n);
    buf_copy(&n->vol, &n->dur);
  }
  for (node_t *n = all; n; n = n->next) if (S_ISDIR(n->mode)) dtab_assign(&n->vent, &n->dent, 0);
  for (node_t *n = all, *next; n; n = next) { next = n->next; node_maybe_free(n); }
}

static void control_command(const char *cmd, size_t len) {
  char line[128];
  snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), cmd);
  unsigned seed = 0, delay = 0;
  if (sscanf(line, "sync-delay-us %u", &delay) == 1) sync_delay_us = delay;
  else if (sscanf(line, "power-fail torn %u", &seed) == 1) power_fail(1, seed);
  else if (strncmp(line, "power-fail", 10) == 0) power_fail(0, 0);
  if (strncmp(line, "power-fail", 10) == 0) power_cut = 0;
}

/* ---- FUSE operations ------------------------------------------------------------------------------ */

static node_t *node_of(const char *path, struct fuse_file_info *fi) {
  if (fi && fi->fh) return ((handle_t *)(uintptr_t)fi->fh)->node;
  return path ? resolve(path) : NULL;
}

static void *lf_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->use_ino = 1;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return NULL;
}

static int lf_getattr(const char *path, struct stat *s, struct fuse_file_info *fi) {
  memset(s, 0, sizeof *s);
  if (path && strcmp(path, CONTROL) == 0) {
    s->st_mode = S_IFREG | 0600;
    s->st_nlink = 1;
    s->st_ino = UINT32_MAX;
    return 0;
  }
  node_t *n = node_of(path, fi);
  if (!n) return -ENOENT;
  s->st_ino = n->ino;
  s->st_mode = n->mode;
  s->st_nlink = S_ISDIR(n->mode) ? 2 : (n->vlinks > 0 ? n->vlinks : 1);
  s->st_uid = getuid();
  s->st_gid = getgid();
  s->st_size = S_ISDIR(n->mode) ? 4096 : (off_t)n->vol.size;
  s->st_blksize = 4096;
  s->st_blocks = (s->st_size + 511) / 512;
  s->st_mtim = n->mtime;
  s->st_atim = n->mtime;
  s->st_ctim = n->ctime;
  return 0;
}

static int lf_readdir(const char *path, void *out, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)off; (void)flags;
  node_t *n = node_of(path, fi);
  if (!n) return -ENOENT;
  if (!S_ISDIR(n->mode)) return -ENOTDIR;
  fill(out, ".", NULL, 0, 0);
  fill(out, "..", NULL, 0, 0);
  for (size_t i = 0; i < n->vent.n; i++) fill(out, n->vent.items[i].name, NULL, 0, 0);
  return 0;
}

static int make(const char *path, mode_t mode, node_t **out) {
  char name[256];
  node_t *parent = resolve_parent(path, name, sizeof name);
  if (!parent) return -ENOENT;
  if (dtab_find(&parent->vent, name)) return -EEXIST;
  node_t *n = node_new(mode);
  dtab_add(&parent->vent, name, n);
  n->vlinks++;
  now(&parent->mtime);
  *out = n;
  return 0;
}

static int lf_mkdir(const char *path, mode_t mode) {
  POWER_ON_OR_EIO();
  node_t *n;
  return make(path, S_IFDIR | (mode & 07777), &n);
}

static int open_handle(node_t *n, struct fuse_file_info *fi, int control) {
  handle_t *h = calloc(1, sizeof *h);
  h->node = n;
  h->flags = fi->flags;
  h->control = control;
  if (n) n->opens++;
  fi->fh = (uint64_t)(uintptr_t)h;
  fi->direct_io = 1;
  return 0;
}

static void truncate_node(node_t *n, off_t size) {
  log_push(n, 1, size, NULL, 0);
  buf_resize(&n->vol, (size_t)size);
  now(&n->mtime);
}

static int lf_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  POWER_ON_OR_EIO();
  node_t *n;
  int r = make(path, S_IFREG | (mode & 07777), &n);
  if (r) return r;
  return open_handle(n, fi, 0);
}

static int lf_open(const char *path, struct fuse_file_info *fi) {
  if (strcmp(path, CONTROL) == 0) return open_handle(NULL, fi, 1);
  POWER_ON_OR_EIO();
  node_t *n = resolve(path);
  if (!n) return -ENOENT;
  if (S_ISDIR(n->mode)) return -EISDIR;
  if ((fi->flags & O_TRUNC) && n->vol.size > 0) truncate_node(n, 0);
  return open_handle(n, fi, 0);
}

static int lf_read(const char *path, char *out, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  handle_t *h = (handle_t *)(uintptr_t)fi->fh;
  if (h->control) {
    size_t len = 0;
    char *text = stats_json(&len);
    size_t n = (size_t)off >= len ? 0 : (len - (size_t)off < size ? len - (size_t)off : size);
    if (n) memcpy(out, text + off, n);
    free(text);
    return (int)n;
  }
  node_t *n = h->node;
  if ((size_t)off >= n->vol.size) return 0;
  size_t len = n->vol.size - (size_t)off < size ? n->vol.size - (size_t)off : size;
  memcpy(out, n->vol.data + off, len);
  return (int)len;
}

static int lf_write(const char *path, const char *data, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  handle_t *h = (handle_t *)(uintptr_t)fi->fh;
  if (h->control) {
    control_command(data, size);
    return (int)size;
  }
  POWER_ON_OR_EIO();
  node_t *n = h->node;
  if (h->flags & O_APPEND) off = (off_t)n->vol.size;
  buf_write(&n->vol, off, data, size);
  log_push(n, 0, off, data, size);
  now(&n->mtime);
  st.writes++;
  st.bytes_written += size;
  return (int)size;
}

static int lf_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (power_cut && !(path && strcmp(path, CONTROL) == 0)) return -EIO;
  if (path && strcmp(path, CONTROL) == 0) return 0;
  node_t *n = node_of(path, fi);
  if (!n) return -ENOENT;
  if (S_ISDIR(n->mode)) return -EISDIR;
  truncate_node(n, size);
  return 0;
}

static int lf_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  node_t *n = node_of(path, fi);
  if (!n) return path && strcmp(path, CONTROL) == 0 ? 0 : -ENOENT;
  POWER_ON_OR_EIO();
  for (unsigned waited = 0; waited < sync_delay_us && !power_cut; waited += 100) usleep(100);
  POWER_ON_OR_EIO();
  for (size_t i = 0; i < n->nlog; i++) op_apply(&n->dur, &n->log[i]);
  log_clear(n);
  if (datasync) st.fdatasyncs++;
  else st.fsyncs++;
  return 0;
}

static int lf_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)datasync;
  node_t *n = node_of(path, fi);
  if (!n) return -ENOENT;
  if (!S_ISDIR(n->mode)) return -ENOTDIR;
  POWER_ON_OR_EIO();
  for (unsigned waited = 0; waited < sync_delay_us && !power_cut; waited += 100) usleep(100);
  POWER_ON_OR_EIO();
  dtab_assign(&n->dent, &n->vent, 1);
  st.dir_fsyncs++;
  for (node_t *x = all, *next; x; x = next) { next = x->next; node_maybe_free(x); }
  return 0;
}

static int lf_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  handle_t *h = (handle_t *)(uintptr_t)fi->fh;
  if (h->node) {
    h->node->opens--;
    node_maybe_free(h->node);
  }
  free(h);
  return 0;
}

static int lf_opendir(const char *path, struct fuse_file_info *fi) {
  node_t *n = resolve(path);
  if (!n) return -ENOENT;
  if (!S_ISDIR(n->mode)) return -ENOTDIR;
  return open_handle(n, fi, 0);
}

static int lf_unlink(const char *path) {
  POWER_ON_OR_EIO();
  char name[256];
  node_t *parent = resolve_parent(path, name, sizeof name);
  if (!parent) return -ENOENT;
  dent_t *d = dtab_find(&parent->vent, name);
  if (!d) return -ENOENT;
  if (S_ISDIR(d->node->mode)) return -EISDIR;
  node_t *n = d->node;
  dtab_remove(&parent->vent, d);
  n->vlinks--;
  now(&parent->mtime);
  node_maybe_free(n);
  return 0;
}

static int lf_rmdir(const char *path) {
  POWER_ON_OR_EIO();
  char name[256];
  node_t *parent = resolve_parent(path, name, sizeof name);
  if (!parent) return -ENOENT;
  dent_t *d = dtab_find(&parent->vent, name);
  if (!d) return -ENOENT;
  if (!S_ISDIR(d->node->mode)) return -ENOTDIR;
  if (d->node->vent.n > 0) return -ENOTEMPTY;
  node_t *n = d->node;
  dtab_remove(&parent->vent, d);
  n->vlinks--;
  node_maybe_free(n);
  return 0;
}

static int lf_rename(const char *from, const char *to, unsigned int flags) {
  POWER_ON_OR_EIO();
  if (flags & ~RENAME_NOREPLACE) return -EINVAL;
  char fname[256], tname[256];
  node_t *fp = resolve_parent(from, fname, sizeof fname), *tp = resolve_parent(to, tname, sizeof tname);
  if (!fp || !tp) return -ENOENT;
  dent_t *src = dtab_find(&fp->vent, fname);
  if (!src) return -ENOENT;
  node_t *n = src->node;
  dent_t *dst = dtab_find(&tp->vent, tname);
  if (dst && dst->node == n) return 0;
  if (dst && (flags & RENAME_NOREPLACE)) return -EEXIST;
  if (dst && S_ISDIR(dst->node->mode) && dst->node->vent.n > 0) return -ENOTEMPTY;
  dtab_remove(&fp->vent, src);
  if (dst) {
    node_t *old = dst->node;
    dst->node = n;
    old->vlinks--;
    node_maybe_free(old);
  } else {
    dtab_add(&tp->vent, tname, n);
  }
  now(&fp->mtime);
  now(&tp->mtime);
  return 0;
}

static int lf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (power_cut && !(path && strcmp(path, CONTROL) == 0)) return -EIO;
  node_t *n = node_of(path, fi);
  if (!n) return path && strcmp(path, CONTROL) == 0 ? 0 : -ENOENT;
  n->mode = (n->mode & S_IFMT) | (mode & 07777);
  return 0;
}

static int lf_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  (void)path; (void)uid; (void)gid; (void)fi;
  return 0;
}

static int lf_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  if (power_cut && !(path && strcmp(path, CONTROL) == 0)) return -EIO;
  node_t *n = node_of(path, fi);
  if (!n) return path && strcmp(path, CONTROL) == 0 ? 0 : -ENOENT;
  if (tv) n->mtime = tv[1];
  return 0;
}

static int lf_statfs(const char *path, struct statvfs *s) {
  (void)path;
  memset(s, 0, sizeof *s);
  s->f_bsize = s->f_frsize = 4096;
  s->f_blocks = s->f_bfree = s->f_bavail = 1 << 20;
  s->f_files = s->f_ffree = 1 << 20;
  s->f_namemax = 255;
  return 0;
}

static int lf_flush(const char *path, struct fuse_file_info *fi) { (void)path; (void)fi; return 0; }

static const struct fuse_operations ops = {
  .init = lf_init,
  .getattr = lf_getattr,
  .readdir = lf_readdir,
  .mkdir = lf_mkdir,
  .create = lf_create,
  .open = lf_open,
  .read = lf_read,
  .write = lf_write,
  .truncate = lf_truncate,
  .fsync = lf_fsync,
  .fsyncdir = lf_fsyncdir,
  .release = lf_release,
  .opendir = lf_opendir,
  .releasedir = lf_release,
  .flush = lf_flush,
  .unlink = lf_unlink,
  .rmdir = lf_rmdir,
  .rename = lf_rename,
  .chmod = lf_chmod,
  .chown = lf_chown,
  .utimens = lf_utimens,
  .statfs = lf_statfs,
};

int main(int argc, char *argv[]) {
  struct sigaction cut = { 0 };
  cut.sa_handler = on_power_cut; /* no SA_RESTART: a sleeping fsync wakes up */
  sigemptyset(&cut.sa_mask);
  sigaction(SIGUSR1, &cut, NULL);
  root = node_new(S_IFDIR | 0755);
  root->ino = 1; /* FUSE's root */
  return fuse_main(argc, argv, &ops, NULL);
}
