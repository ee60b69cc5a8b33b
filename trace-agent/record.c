/*
 * record.c - trace-agent record: one event from the command line, drafted,
 * validated, queued first, then placed on its chain, signed and sent.
 *
 * The order is what makes record safe to kill or to run offline: the draft
 * is in the queue (written atomically) before anything else happens, so a
 * crash or a dead network after that point leaves the event queued for
 * `trace-agent send`, and a crash before it leaves nothing half-done.
 * Sending goes through send_flush() restricted to the event's chain, so
 * events of that chain queued earlier go first and keep their order.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "libtrace/fileio.h"

#define DATA_FILE_MAX (64 * 1024)

static const char record_usage[] =
"usage: trace-agent record --key K.key --type TYPE --gtin G --lot L\n"
"           [--time T] [--country CC] [--place TEXT] [--data FILE|-]\n"
"           [--set NAME=VALUE]... [--attach FILE[:NAME]]... [--attempts N]\n"
"           [--server URL] [--queue DIR]\n"
"\n"
"Build, sign, queue and send one event; prints its statement id.\n"
"\n"
"  --key K.key      the signer's private key file (mode 0600)\n"
"  --type TYPE      product.registered, inspection.sampled,\n"
"                   inspection.completed, shipment.departed,\n"
"                   shipment.arrived, customs.declared, customs.released,\n"
"                   warehouse.received, warehouse.dispatched, recall.issued,\n"
"                   recall.closed, correction or serials.issued\n"
"                   (--set 'ranges=[[\"S0001\",\"S9999\"]]', or root and\n"
"                   count as 'trace-agent codes upload' prints them)\n"
"  --gtin G         GTIN-8, -12, -13 or -14 (stored as GTIN-14)\n"
"  --lot L          the lot (GS1 AI 10)\n"
"  --time T         when it happened, RFC 3339 (default: now)\n"
"  --country CC     where: ISO 3166-1 alpha-2 country\n"
"  --place TEXT     where: free text\n"
"  --data FILE|-    the data object as a JSON file (- for standard input)\n"
"  --set NAME=VALUE one data field; VALUE is JSON when it is an integer,\n"
"                   object or array, text otherwise; NAME.SUB=VALUE makes\n"
"                   nested objects (--set name.en=Emulsion)\n"
"  --attach FILE[:NAME]\n"
"                   a document behind the event (the inspection report as a\n"
"                   PDF, photos as JPEG or PNG; told by their first bytes):\n"
"                   copied into the queue with a signed upload statement,\n"
"                   uploaded before the event, and named in its\n"
"                   data.attachments as {name, sha256, media}.  NAME\n"
"                   defaults to the file name.  Repeatable (up to 32);\n"
"                   progress is shown on stderr for large files\n"
"  --attempts N     tries per request before queueing (default 1)\n"
"\n"
"The event is written to the offline queue before it is signed or sent.\n"
"If the server cannot be reached, record says where the event is queued\n"
"and exits 0; `trace-agent send` sends it later, documents first.  An\n"
"upload cut off is sent again whole by the next send (the server keeps\n"
"nothing of it).\n"
"Its id is printed only once the server accepted it.  If the chain moved\n"
"while it was sent by a recall, a correction or a failed inspection, the\n"
"event is not rebased over them: it stays queued and record exits 4 (see\n"
"`trace-agent send --help`).\n"
"exit status: 0 recorded or queued; 1 refused by the server or a local\n"
"error (key file); 2 usage or an invalid event; 4 queued, held.\n";

struct own_entry {
	const char *name;
	bool seen;
	struct send_report report;
};

static void
record_on_entry(const struct send_report *r, void *arg)
{
	struct own_entry *own = arg;

	if (strcmp(r->name, own->name) == 0) {
		own->seen = true;
		own->report = *r;
		own->report.name = own->name;
	}
}

/* Fill data from --data, the --set pairs and the --attach documents. */
static int
record_data(struct draft *d, const char *data_path, char **sets,
    size_t set_count, const struct attachment *attached, size_t attach_count)
{
	struct draft_data *data = draft_data_new();
	struct trace_error err;
	char *text = NULL;
	size_t len = 0;
	int rc = AGENT_EXIT_USAGE;

	if (data == NULL) {
		agent_warn("record", "out of memory");
		return AGENT_EXIT_FAILED;
	}
	if (data_path != NULL) {
		enum trace_status st = strcmp(data_path, "-") == 0 ?
		    file_read_fd(STDIN_FILENO, DATA_FILE_MAX, &text, &len, &err) :
		    file_read_all(data_path, DATA_FILE_MAX, &text, &len, &err);

		if (st != TRACE_OK ||
		    draft_data_merge_text(data, text, len, &err) != TRACE_OK) {
			agent_warn("record", "--data %s: %s", data_path,
			    err.message);
			goto out;
		}
	}
	for (size_t i = 0; i < set_count; i++) {
		const char *eq = strchr(sets[i], '=');

		if (eq == NULL || eq == sets[i]) {
			agent_usage_error("record", "--set wants NAME=VALUE, "
			    "not \"%s\"", sets[i]);
			goto out;
		}
		if (draft_data_set(data, sets[i], (size_t)(eq - sets[i]), eq + 1,
		    strlen(eq + 1), &err) != TRACE_OK) {
			agent_report("record", &err);
			goto out;
		}
	}
	if (attach_count > 0) {
		char *list = attachments_json(attached, attach_count);

		if (list == NULL) {
			agent_warn("record", "out of memory");
			rc = AGENT_EXIT_FAILED;
			goto out;
		}
		if (draft_data_set(data, "attachments", strlen("attachments"),
		    list, strlen(list), &err) != TRACE_OK) {
			agent_report("record", &err);
			free(list);
			goto out;
		}
		free(list);
	}
	if (draft_data_finish(data, &d->data, &err) != TRACE_OK) {
		agent_report("record", &err);
		goto out;
	}
	rc = AGENT_EXIT_OK;
out:
	free(text);
	draft_data_free(data);
	return rc;
}

/* Queue the documents and the draft, then send this chain; report the
 * event's fate. */
static int
record_submit(struct agent *a, struct draft *d, const char *key_path,
    const struct key_pair *kp, int attempts,
    const struct attachment *attached, size_t attach_count)
{
	struct own_entry own = { 0 };
	struct send_options opt = { .cmd = "record", .attempts = attempts,
	    .on_entry = record_on_entry, .arg = &own };
	struct send_totals totals;
	struct queue_entry e;
	struct trace_error err;
	struct queue q;
	char chain[CHAIN_ID_MAX + 1];
	int rc = AGENT_EXIT_FAILED;

	draft_chain(d, chain, sizeof(chain));
	if (queue_open(&q, agent_queue_dir(a), &err) != TRACE_OK) {
		agent_report("record", &err);
		draft_clear(d);
		return AGENT_EXIT_FAILED;
	}
	/* Documents before the event that names them. */
	for (size_t i = 0; i < attach_count; i++)
		if (attachment_queue(&q, &attached[i], kp, &err) != TRACE_OK) {
			agent_report("record", &err);
			draft_clear(d);
			queue_close(&q);
			return AGENT_EXIT_FAILED;
		}
	queue_entry_init(&e, d, key_path, kp->keyid, NULL);
	memset(d, 0, sizeof(*d));   /* the entry owns it now */
	if (queue_append(&q, &e, &err) != TRACE_OK) {
		agent_report("record", &err);
		goto out;
	}
	agent_crash_point("queued");
	own.name = e.name;
	if (a->server[0] == '\0') {
		fprintf(stderr, "queued %s/%s: no server configured "
		    "(--server or TRACE_SERVER); `trace-agent send` will send "
		    "it\n", q.dir, e.name);
		rc = AGENT_EXIT_OK;
		goto out;
	}
	opt.only_chain = chain;
	if (send_flush(a, &q, &opt, &totals, &err) != TRACE_OK) {
		agent_report("record", &err);
		goto out;
	}
	if (own.seen && own.report.outcome == SEND_SENT) {
		printf("%s\n", own.report.id);
		rc = AGENT_EXIT_OK;
	} else if (own.seen && own.report.outcome == SEND_REJECTED) {
		rc = AGENT_EXIT_FAILED;   /* send.c said why */
	} else if (own.seen && own.report.refused_kept) {
		fprintf(stderr, "queued %s/%s: %s\n", q.dir, e.name,
		    own.report.message);
		rc = AGENT_EXIT_FAILED;
	} else if (totals.held > 0) {
		/* The chain moved by a recall, a correction or a fail: the
		 * event waits, unchanged, for the signer to look (send.c
		 * named what and how to go on). */
		fprintf(stderr, "queued %s/%s: held; `trace-agent send --seen "
		    "ID` sends it once you have read what moved the chain\n",
		    q.dir, e.name);
		rc = AGENT_EXIT_HELD;
	} else {
		/* Safe on disk: an inspector offline needs no more. */
		fprintf(stderr, "queued %s/%s: %s; `trace-agent send` will "
		    "send it\n", q.dir, e.name, own.seen ? own.report.message :
		    "not sent yet");
		rc = AGENT_EXIT_OK;
	}
out:
	queue_entry_clear(&e);
	queue_close(&q);
	return rc;
}

int
cmd_record(struct agent *a, int argc, char **argv)
{
	enum { OPT_KEY = OPT_FIRST_LOCAL, OPT_TYPE, OPT_GTIN, OPT_LOT,
		OPT_TIME, OPT_COUNTRY, OPT_PLACE, OPT_DATA, OPT_SET,
		OPT_ATTEMPTS, OPT_ATTACH };
	static const struct option options[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "gtin", required_argument, NULL, OPT_GTIN },
		{ "lot", required_argument, NULL, OPT_LOT },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "country", required_argument, NULL, OPT_COUNTRY },
		{ "place", required_argument, NULL, OPT_PLACE },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "set", required_argument, NULL, OPT_SET },
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *type = NULL, *gtin = NULL, *lot = NULL,
	    *when = NULL, *country = NULL, *place = NULL, *data = NULL;
	char **sets = NULL, key_path[PATH_MAX];
	const char *attach_specs[ATTACH_MAX];
	struct attachment *attached = NULL;
	size_t set_count = 0, attach_count = 0;
	struct draft d;
	struct key_pair kp;
	struct trace_error err;
	int c, attempts = 1, rc;

	memset(&d, 0, sizeof(d));
	memset(&kp, 0, sizeof(kp));
	if ((sets = calloc((size_t)argc, sizeof(*sets))) == NULL)
		return AGENT_EXIT_FAILED;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (agent_common_option(a, c, optarg))
			continue;
		switch (c) {
		case OPT_KEY: key = optarg; break;
		case OPT_TYPE: type = optarg; break;
		case OPT_GTIN: gtin = optarg; break;
		case OPT_LOT: lot = optarg; break;
		case OPT_TIME: when = optarg; break;
		case OPT_COUNTRY: country = optarg; break;
		case OPT_PLACE: place = optarg; break;
		case OPT_DATA: data = optarg; break;
		case OPT_SET: sets[set_count++] = optarg; break;
		case OPT_ATTACH:
			if (attach_count == ATTACH_MAX) {
				rc = agent_usage_error("record", "at most %d "
				    "--attach", ATTACH_MAX);
				goto out;
			}
			attach_specs[attach_count++] = optarg;
			break;
		case OPT_ATTEMPTS:
			attempts = atoi(optarg);
			if (attempts < 1 || attempts > 100) {
				rc = agent_usage_error("record",
				    "--attempts must be 1 to 100");
				goto out;
			}
			break;
		case 'h':
			fputs(record_usage, stdout);
			rc = AGENT_EXIT_OK;
			goto out;
		default:
			rc = agent_usage_error("record", "bad option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = agent_usage_error("record", "unexpected argument '%s'",
		    argv[optind]);
		goto out;
	}
	if (key == NULL || type == NULL || gtin == NULL || lot == NULL) {
		rc = agent_usage_error("record", "--key, --type, --gtin and "
		    "--lot are required");
		goto out;
	}
	rc = AGENT_EXIT_USAGE;
	if (draft_set_type(&d, type, &err) != TRACE_OK ||
	    draft_set_gtin(&d, gtin, &err) != TRACE_OK ||
	    draft_set_lot(&d, lot, &err) != TRACE_OK ||
	    draft_set_time(&d, when, &err) != TRACE_OK ||
	    (country != NULL && draft_set_country(&d, country, &err) !=
	    TRACE_OK) ||
	    (place != NULL && draft_set_place(&d, place, &err) != TRACE_OK)) {
		agent_report("record", &err);
		goto out;
	}
	if (attach_count > 0 && (attached = calloc(attach_count,
	    sizeof(*attached))) == NULL) {
		rc = AGENT_EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < attach_count; i++)
		if (attachment_read(attach_specs[i], &attached[i], &err) !=
		    TRACE_OK) {
			agent_report("record", &err);
			rc = err.status == TRACE_EMEDIA ||
			    err.status == TRACE_EMALFORMED ? AGENT_EXIT_USAGE :
			    AGENT_EXIT_FAILED;
			goto out;
		}
	if ((rc = record_data(&d, data, sets, set_count, attached,
	    attach_count)) != AGENT_EXIT_OK)
		goto out;
	rc = AGENT_EXIT_FAILED;
	/* The queue keeps the key's absolute path: send may run elsewhere. */
	if (realpath(key, key_path) == NULL) {
		agent_warn("record", "--key %s: cannot find it", key);
		goto out;
	}
	if (key_pair_load(key_path, &kp, &err) != TRACE_OK) {
		agent_report("record", &err);
		goto out;
	}
	if (!kp.has_secret) {
		agent_warn("record", "%s is a public key; sign with the .key "
		    "file", key);
		goto out;
	}
	/* Everything the event says is checked before it is queued. */
	if (draft_check(&d, kp.keyid, &err) != TRACE_OK) {
		agent_report("record", &err);
		rc = AGENT_EXIT_USAGE;
		goto out;
	}
	rc = record_submit(a, &d, key_path, &kp, attempts, attached,
	    attach_count);
out:
	for (size_t i = 0; attached != NULL && i < attach_count; i++)
		attachment_clear(&attached[i]);
	free(attached);
	key_pair_wipe(&kp);
	draft_clear(&d);
	free(sets);
	return rc;
}
