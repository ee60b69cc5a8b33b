/*
 * attachments.c - inspection documents on the agent's side: `record
 * --attach` puts a file in the offline queue with its signed upload
 * statement, `send` uploads what is queued before any event, and `verify
 * --attachments` downloads every document a bundle names and checks its
 * hash (docs/PROTOCOL.md "Documents").
 *
 * Queue layout (beside the entries, queue.c):
 *
 *   blobs/SHA256           the document's bytes, copied at record time, so
 *                          the original may move or change afterwards
 *   blobs/SHA256.upload    its upload statement, the DSSE envelope JSON
 *                          (sent base64 in the Trace-Upload header)
 *
 * Bytes without a statement beside them were left by a killed agent (a
 * record before it queued anything, a send between its two deletes) and
 * are removed by the next send, under the queue's lock.
 *
 * Both are written atomically, the bytes first: a statement file exists
 * only beside complete bytes.  A document leaves the queue only after the
 * server said 201 or 200 for it; an upload cut off anywhere writes nothing
 * on the server (it is stored whole or not at all), so `send` simply
 * uploads it again: that is how an upload resumes.  The event itself is
 * an ordinary queue entry recorded after its documents are queued.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/blob.h"
#include "libtrace/buf.h"
#include "libtrace/encoding.h"
#include "libtrace/fileio.h"

#define BLOBS_DIR "blobs"
#define UPLOAD_SUFFIX ".upload"
#define PROGRESS_MIN (1024 * 1024)     /* files this large show progress */
#define READ_CHUNK (256 * 1024)

/* ---- progress on stderr ------------------------------------------------- */

struct progress {
	const char *what;
	int last;                          /* percent last shown, -1 none */
};

static void
progress_show(void *arg, size_t done, size_t total)
{
	struct progress *p = arg;
	int pct = total > 0 ? (int)(done * 100 / total) : 100;

	if (total < PROGRESS_MIN || pct == p->last)
		return;
	p->last = pct;
	fprintf(stderr, "\r%s: %3d%% of %zu bytes", p->what, pct, total);
	if (pct == 100)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- record --attach ------------------------------------------------------ */

/* q->dir "/" a b c into out; false if it does not fit. */
static bool
queue_file(char *out, size_t size, const struct queue *q, const char *a,
    const char *b, const char *c)
{
	const char *parts[] = { q->dir, "/", a, b, c };
	size_t used = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strlen(parts[i]);

		if (used + n >= size)
			return false;
		memcpy(out + used, parts[i], n);
		used += n;
	}
	out[used] = '\0';
	return true;
}

static bool
blob_path(char *out, size_t size, const struct queue *q, const char *sha,
    const char *suffix)
{
	return queue_file(out, size, q, BLOBS_DIR "/", sha, suffix);
}

/* Read path whole, with progress for a large file. */
static enum trace_status
read_document(const char *path, unsigned char **data, size_t *len,
    struct trace_error *err)
{
	struct progress p = { path, -1 };
	struct stat sb;
	unsigned char *buf = NULL;
	size_t used = 0;
	int fd;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
		trace_error_set(err, errno == ENOENT ? TRACE_ENOTFOUND : TRACE_EIO,
		    "io_error", NULL, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err != NULL ? err->status : TRACE_EIO;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > ATTACH_FILE_MAX) {
		close(fd);
		return trace_error_set(err, TRACE_ETOOBIG, "bad_file", NULL,
		    "%s: a document is a regular file of 1 byte to %lld bytes",
		    path, ATTACH_FILE_MAX);
	}
	if ((buf = malloc((size_t)sb.st_size)) == NULL) {
		close(fd);
		return trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory for %s", path);
	}
	while (used < (size_t)sb.st_size) {
		size_t want = (size_t)sb.st_size - used;
		ssize_t n = read(fd, buf + used, want > READ_CHUNK ? READ_CHUNK :
		    want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			free(buf);
			return trace_error_set(err, TRACE_EIO, "io_error", NULL,
			    "%s: changed or unreadable while read", path);
		}
		used += (size_t)n;
		progress_show(&p, used, (size_t)sb.st_size);
	}
	close(fd);
	*data = buf;
	*len = used;
	return TRACE_OK;
}

enum trace_status
attachment_read(const char *spec, struct attachment *out,
    struct trace_error *err)
{
	char file[PATH_MAX];
	const char *colon = strrchr(spec, ':'), *name, *slash;
	unsigned char digest[SHA256_LEN];
	enum blob_media media;
	enum trace_status rc;

	memset(out, 0, sizeof(*out));
	/* FILE:NAME; a FILE that exists as given (with its colon) wins. */
	if (colon != NULL && colon != spec && access(spec, F_OK) != 0) {
		snprintf(file, sizeof(file), "%.*s", (int)(colon - spec), spec);
		name = colon + 1;
	} else {
		snprintf(file, sizeof(file), "%s", spec);
		slash = strrchr(spec, '/');
		name = slash != NULL ? slash + 1 : spec;
	}
	if (name[0] == '\0' || strlen(name) > ATTACH_NAME_MAX ||
	    strpbrk(name, "\r\n\t") != NULL)
		return trace_error_set(err, TRACE_EMALFORMED, "bad_name",
		    "attach", "--attach %s: the name must be 1-%d bytes on one "
		    "line", spec, ATTACH_NAME_MAX);
	snprintf(out->name, sizeof(out->name), "%s", name);
	if ((rc = read_document(file, &out->data, &out->len, err)) != TRACE_OK)
		return rc;
	if (!blob_media_detect(out->data, out->len, &media)) {
		attachment_clear(out);
		return trace_error_set(err, TRACE_EMEDIA, "unsupported_media",
		    "attach", "%s is not a PDF, JPEG or PNG file (by its first "
		    "bytes); only those are accepted", file);
	}
	sha256(out->data, out->len, digest);
	hex_encode(digest, SHA256_LEN, out->sha256);
	out->media = media;
	return TRACE_OK;
}

void
attachment_clear(struct attachment *at)
{
	if (at == NULL)
		return;
	free(at->data);
	memset(at, 0, sizeof(*at));
}

enum trace_status
attachment_queue(struct queue *q, const struct attachment *at,
    const struct key_pair *kp, struct trace_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct blob_statement st;
	struct dsse_envelope env;
	char *payload = NULL, *text = NULL;
	size_t payload_len = 0, text_len = 0;
	enum trace_status rc;

	memset(&env, 0, sizeof(env));
	memset(&st, 0, sizeof(st));
	memcpy(st.sha256, at->sha256, sizeof(st.sha256));
	st.size = (long long)at->len;
	st.media = at->media;
	st.time = time_now();
	memcpy(st.signer, kp->keyid, sizeof(st.signer));
	if ((payload = blob_statement_payload(&st, &payload_len)) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	if ((rc = dsse_sign(TYPE_BLOB, (const unsigned char *)payload,
	    payload_len, kp->secret, kp->keyid, &env, err)) != TRACE_OK)
		goto out;
	if ((text = dsse_envelope_to_text(&env, &text_len)) == NULL) {
		rc = trace_error_set(err, TRACE_ENOMEM, NULL, NULL,
		    "out of memory");
		goto out;
	}
	if (!queue_file(dir, sizeof(dir), q, BLOBS_DIR, "", "") ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	/* The bytes, then the statement: a statement never stands beside
	 * missing or partial bytes.  Queued twice: the newer statement. */
	if (!blob_path(path, sizeof(path), q, at->sha256, "")) {
		rc = trace_error_set(err, TRACE_EIO, "io_error", NULL,
		    "queue path too long");
		goto out;
	}
	if ((rc = file_write_atomic(path, at->data, at->len, 0600, 0, err)) !=
	    TRACE_OK)
		goto out;
	agent_crash_point("attachment-bytes");
	blob_path(path, sizeof(path), q, at->sha256, UPLOAD_SUFFIX);
	rc = file_write_atomic(path, text, text_len, 0600, 0, err);
out:
	dsse_envelope_clear(&env);
	free(text);
	free(payload);
	return rc;
}

char *
attachments_json(const struct attachment *list, size_t count)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "[");
	for (size_t i = 0; i < count; i++) {
		buf_puts(&b, i > 0 ? ",{\"name\":" : "{\"name\":");
		buf_json_string(&b, list[i].name, strlen(list[i].name));
		buf_printf(&b, ",\"sha256\":\"%s\",\"media\":\"%s\"}",
		    list[i].sha256, blob_media_name(list[i].media));
	}
	buf_puts(&b, "]");
	return buf_steal(&b, NULL);
}

/* ---- send ------------------------------------------------------------------- */

/* A queued statement's SHA-256 file name (64 hex + ".upload"). */
static bool
upload_name(const char *name, char sha[2 * SHA256_LEN + 1])
{
	unsigned char raw[SHA256_LEN];

	if (strlen(name) != 2 * SHA256_LEN + strlen(UPLOAD_SUFFIX) ||
	    strcmp(name + 2 * SHA256_LEN, UPLOAD_SUFFIX) != 0 ||
	    !hex_decode(name, 2 * SHA256_LEN, raw, sizeof(raw), true))
		return false;
	memcpy(sha, name, 2 * SHA256_LEN);
	sha[2 * SHA256_LEN] = '\0';
	return true;
}

/* Move a refused document and its statement to rejected/ with why. */
static void
reject_document(struct queue *q, const char *sha, const char *why,
    size_t why_len)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct trace_error err;

	if (!queue_file(to, sizeof(to), q, "rejected", "", ""))
		return;
	(void)mkdir(to, 0700);
	if (!queue_file(to, sizeof(to), q, "rejected/blob-", sha,
	    ".error.json") ||
	    file_write_atomic(to, why, why_len, 0600, 0, &err) != TRACE_OK)
		return;
	if (blob_path(from, sizeof(from), q, sha, "") &&
	    queue_file(to, sizeof(to), q, "rejected/blob-", sha, ""))
		(void)rename(from, to);
	if (blob_path(from, sizeof(from), q, sha, UPLOAD_SUFFIX) &&
	    queue_file(to, sizeof(to), q, "rejected/blob-", sha, UPLOAD_SUFFIX))
		(void)rename(from, to);
}

/* Upload one queued document; returns its fate as send_outcome. */
static enum send_outcome
send_one(const struct agent *a, struct queue *q, const char *sha,
    const struct send_options *opt, bool *unreachable)
{
	char path[PATH_MAX], urlpath[128], what[96], message[512];
	char *statement = NULL, *data = NULL, *header = NULL;
	size_t statement_len = 0, len = 0;
	struct progress p = { what, -1 };
	struct http_response resp = { 0 };
	struct trace_error err;
	enum send_outcome outcome = SEND_KEPT;
	int n;

	blob_path(path, sizeof(path), q, sha, UPLOAD_SUFFIX);
	if (file_read_all(path, BLOB_HEADER_MAX, &statement, &statement_len,
	    &err) != TRACE_OK) {
		agent_report(opt->cmd, &err);
		goto out;
	}
	blob_path(path, sizeof(path), q, sha, "");
	if (file_read_all(path, (size_t)ATTACH_FILE_MAX, &data, &len, &err) !=
	    TRACE_OK) {
		agent_report(opt->cmd, &err);
		goto out;
	}
	n = (int)(strlen(BLOB_HEADER) + 2 + base64_encoded_len(statement_len) +
	    1);
	if ((header = malloc((size_t)n)) == NULL)
		goto out;
	n = snprintf(header, (size_t)n, "%s: ", BLOB_HEADER);
	base64_encode((const unsigned char *)statement, statement_len,
	    header + n);
	snprintf(urlpath, sizeof(urlpath), "/api/v1/blobs/%s", sha);
	snprintf(what, sizeof(what), "uploading document %.12s", sha);
	if (http_upload(a, urlpath, header, data, len, opt->quiet ? NULL :
	    progress_show, &p, &resp, &err) != TRACE_OK) {
		if (!opt->quiet)
			fprintf(stderr, "%s: document %.12s... stays queued: "
			    "%s\n", opt->cmd, sha, err.message);
		*unreachable = true;
		goto out;
	}
	if (resp.status == 201 || resp.status == 200) {
		if (!opt->quiet)
			fprintf(stderr, "document %s %s\n", sha,
			    resp.status == 201 ? "uploaded" : "was already "
			    "on the server");
		/* The statement first: bytes without one are re-queued by
		 * nothing and simply removed at the next send. */
		blob_path(path, sizeof(path), q, sha, UPLOAD_SUFFIX);
		unlink(path);
		blob_path(path, sizeof(path), q, sha, "");
		unlink(path);
		outcome = SEND_SENT;
		goto out;
	}
	http_describe_error(&resp, message, sizeof(message));
	if (http_status_temporary(resp.status) || resp.status == 429 ||
	    resp.status == 507) {
		fprintf(stderr, "%s: document %.12s... stays queued: %s\n",
		    opt->cmd, sha, message);
		*unreachable = *unreachable || http_status_temporary(resp.status);
		goto out;
	}
	fprintf(stderr, "%s: document %s refused, moved to %s/rejected/: %s\n",
	    opt->cmd, sha, q->dir, message);
	reject_document(q, sha, resp.body != NULL ? resp.body : "{}",
	    resp.body != NULL ? resp.len : 2);
	outcome = SEND_REJECTED;
out:
	http_response_free(&resp);
	free(header);
	free(data);
	free(statement);
	return outcome;
}

enum trace_status
attachments_send(const struct agent *a, struct queue *q,
    const struct send_options *opt, size_t *sent, size_t *kept,
    bool *unreachable, struct trace_error *err)
{
	char dir[PATH_MAX], sha[2 * SHA256_LEN + 1], path[PATH_MAX];
	char (*shas)[2 * SHA256_LEN + 1] = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*sent = *kept = 0;
	*unreachable = false;
	if (!queue_file(dir, sizeof(dir), q, BLOBS_DIR, "", "") ||
	    (d = opendir(dir)) == NULL)
		return errno == ENOENT ? TRACE_OK : trace_error_set(err,
		    TRACE_EIO, "io_error", NULL, "cannot read %s: %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		/* Under the queue's lock, a temporary file is what a killed
		 * agent left: never part of the queue. */
		if (strstr(de->d_name, ".tmp.") != NULL) {
			if (queue_file(path, sizeof(path), q, BLOBS_DIR "/",
			    de->d_name, ""))
				unlink(path);
			continue;
		}
		/* Bytes without their statement: a record killed before
		 * it wrote the statement (its event was never queued), or a
		 * send killed between the two deletes of an upload. */
		if (strlen(de->d_name) == 2 * SHA256_LEN &&
		    strspn(de->d_name, "0123456789abcdef") == 2 * SHA256_LEN) {
			char statement[PATH_MAX];

			if (blob_path(statement, sizeof(statement), q,
			    de->d_name, UPLOAD_SUFFIX) &&
			    access(statement, F_OK) != 0 && errno == ENOENT &&
			    blob_path(path, sizeof(path), q, de->d_name, ""))
				unlink(path);
			continue;
		}
		if (!upload_name(de->d_name, sha))
			continue;
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			void *grown = realloc(shas, ncap * sizeof(*shas));

			if (grown == NULL) {
				closedir(d);
				free(shas);
				return trace_error_set(err, TRACE_ENOMEM, NULL,
				    NULL, "out of memory");
			}
			shas = grown;
			cap = ncap;
		}
		memcpy(shas[count++], sha, sizeof(sha));
	}
	closedir(d);
	for (size_t i = 0; i < count; i++) {
		/* The server away: the rest wait too, as events do. */
		if (*unreachable) {
			(*kept)++;
			continue;
		}
		switch (send_one(a, q, shas[i], opt, unreachable)) {
		case SEND_SENT: (*sent)++; break;
		case SEND_KEPT: (*kept)++; break;
		case SEND_REJECTED: break;
		}
	}
	free(shas);
	return TRACE_OK;
}

/* ---- verify --attachments ----------------------------------------------------- */

size_t
attachments_verify(const struct agent *a, const struct bundle *b,
    bool *unreachable)
{
	/* Pending events (SPEC 9) follow the covered ones (bundle.h). */
	size_t problems = 0, checked = 0, count = b->event_count +
	    (b->pending != NULL ? b->pending->event_count : 0);
	bool ignored;

	if (unreachable == NULL)
		unreachable = &ignored;
	*unreachable = false;
	for (size_t i = 0; i < count; i++) {
		const struct bundle_item *it = &b->events[i];
		const struct json_value *list;
		struct trace_event ev;

		if (!it->readable || event_parse_stored(it->env.payload,
		    it->env.payload_len, &ev, NULL) != TRACE_OK)
			continue;
		list = ev.data != NULL ? json_object_get(ev.data,
		    "attachments") : NULL;
		for (size_t k = 0; list != NULL && list->type == JSON_ARRAY &&
		    k < list->u.array.count; k++) {
			const struct json_value *at = list->u.array.items[k];
			const char *sha = NULL, *name = NULL;
			struct http_response resp = { 0 };
			struct trace_error err;
			unsigned char digest[SHA256_LEN];
			char hex[2 * SHA256_LEN + 1], path[128];

			json_get_string(at, "sha256", false, &sha, NULL, NULL);
			json_get_string(at, "name", false, &name, NULL, NULL);
			if (sha == NULL || strlen(sha) != 2 * SHA256_LEN)
				continue;
			checked++;
			snprintf(path, sizeof(path), "/api/v1/blobs/%s", sha);
			if (http_exchange(a, "verify", "GET", path, "*/*", NULL,
			    0, 3, &resp, &err) != TRACE_OK ||
			    http_status_temporary(resp.status)) {
				printf("FAIL  document %s (%s) of event seq %lld: "
				    "server unreachable\n", name ? name : "?",
				    sha, ev.seq);
				*unreachable = true;
				problems++;
			} else if (resp.status == 404) {
				printf("FAIL  document %s (%s) of event seq %lld: "
				    "not uploaded\n", name ? name : "?", sha,
				    ev.seq);
				problems++;
			} else if (resp.status != 200) {
				printf("FAIL  document %s (%s) of event seq %lld: "
				    "HTTP %ld\n", name ? name : "?", sha, ev.seq,
				    resp.status);
				problems++;
			} else {
				sha256(resp.body != NULL ? resp.body : "",
				    resp.len, digest);
				hex_encode(digest, SHA256_LEN, hex);
				if (strcmp(hex, sha) == 0) {
					printf("ok    document %s (%s), %zu bytes, "
					    "of event seq %lld\n", name ? name :
					    "?", sha, resp.len, ev.seq);
				} else {
					printf("FAIL  document %s of event seq "
					    "%lld: the server sent bytes whose "
					    "SHA-256 is %s, not %s\n", name ?
					    name : "?", ev.seq, hex, sha);
					problems++;
				}
			}
			http_response_free(&resp);
		}
		event_free(&ev);
	}
	printf("documents: %zu checked, %zu problem%s\n", checked, problems,
	    problems == 1 ? "" : "s");
	return problems;
}
