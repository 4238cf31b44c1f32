/*
 * cache.c - answers of the store's read commands (GET /api/sessions and the
 * other lists and gets), reused while the store's state has not changed.
 *
 * The store runs every command in one loop, so a GET that goes there waits
 * behind everything else it does. Its status page (common/storestat.h)
 * carries a generation that moves before the store answers any command that
 * changed something, whenever a session file is written, and whenever a
 * recording run's visible state moves. An answer fetched while the
 * generation was G is therefore still exactly right while it is G, and is
 * served from here without asking the store.
 *
 * Only the progress of a recording (a run's frame count, a recording's packet
 * counts) moves the page's separate progress counter. An answer that is
 * behind on progress alone is still served to others while one request
 * fetches the new one: nobody caused that change, so nobody can be waiting
 * to read it, and the answer is a round trip old at most.
 *
 * The page's heartbeat decides whether the store is alive: when it is older
 * than STORESTAT_FRESH_NS (or the store stopped cleanly) nothing is served
 * from here and the request goes to the store, which then answers or times
 * out with 503, as without the cache.
 *
 * Concurrency: a slot table under a read-write lock holds reference-counted
 * responses (head and body, written as they are); the first request for a
 * large one that takes gzip compresses it once and leaves that beside it
 * (gzip.c). Hits only take the read
 * lock, so a reader preempted while holding it stalls no other reader (32
 * connections on 2 cores: holders do get descheduled). Misses for the same key are
 * serialised by a fill lock, so a burst of requests after a change asks the
 * store once, not once per connection. All of it is one struct cache, made
 * by main (cache_new) and reached through the struct api.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/msg.h"
#include "common/storestat.h"

#define SLOTS 64
#define FILL_LOCKS 16
#define KEY_MAX 192
#define REATTACH_NS (1000 * NS_PER_MS)

struct blob {
	_Atomic int ref;
	size_t len, head_len;    /* data: the head, then the body */
	struct blob *_Atomic gz; /* the response gzipped, or NULL (owned) */
	char data[];
};

struct slot {
	char key[KEY_MAX];
	uint64_t gen, progress;
	_Atomic uint64_t used; /* for eviction: the least recently used goes */
	struct blob *b;
};

struct cache {
	char instance[IDS_INSTANCE_MAX + 1];
	pthread_rwlock_t lock; /* the slots */
	struct slot slots[SLOTS];
	_Atomic uint64_t tick;
	pthread_mutex_t fill[FILL_LOCKS];

	/* the store's page: attached lazily, re-attached when it was replaced */
	pthread_rwlock_t page_lock;
	struct storestat *page;
	_Atomic int64_t next_attach_ns;

	_Atomic unsigned long long hits, misses, behind;
};

int cache_new(struct cache **out, const char *instance)
{
	struct cache *k = calloc(1, sizeof *k);

	*out = NULL;
	if (!k)
		return -ENOMEM;
	snprintf(k->instance, sizeof k->instance, "%s", instance);
	pthread_rwlock_init(&k->lock, NULL);
	pthread_rwlock_init(&k->page_lock, NULL);
	for (int i = 0; i < FILL_LOCKS; i++)
		pthread_mutex_init(&k->fill[i], NULL);
	*out = k;
	return 0;
}

static void blob_put(struct blob *b)
{
	if (b && atomic_fetch_sub(&b->ref, 1) == 1) {
		free(atomic_load(&b->gz));
		free(b);
	}
}

/* A response (its head the first head_len of the len bytes of data) or a
 * result (head_len 0), copied, referenced once; NULL when out of memory. */
static struct blob *blob_new(const char *data, size_t len, size_t head_len)
{
	struct blob *b = malloc(sizeof *b + len);

	if (!b)
		return NULL;
	atomic_init(&b->ref, 1);
	b->len = len;
	b->head_len = head_len;
	atomic_init(&b->gz, NULL);
	memcpy(b->data, data, len);
	return b;
}

void cache_free(struct cache *k)
{
	if (!k)
		return;
	for (int i = 0; i < SLOTS; i++)
		blob_put(k->slots[i].b);
	storestat_close(k->page);
	for (int i = 0; i < FILL_LOCKS; i++)
		pthread_mutex_destroy(&k->fill[i]);
	pthread_rwlock_destroy(&k->page_lock);
	pthread_rwlock_destroy(&k->lock);
	free(k);
}

/* (Re-)attach the page when there is none or it went stale and was replaced;
 * at most once a second, by one thread. */
static void maybe_attach(struct cache *k, int64_t now)
{
	int64_t due = atomic_load(&k->next_attach_ns);
	struct storestat *fresh = NULL;

	if (now < due ||
	    !atomic_compare_exchange_strong(&k->next_attach_ns, &due, now + REATTACH_NS))
		return;
	pthread_rwlock_rdlock(&k->page_lock);
	int keep = k->page && !storestat_replaced(k->page);
	pthread_rwlock_unlock(&k->page_lock);
	if (keep || storestat_attach(&fresh, k->instance) < 0)
		return;
	pthread_rwlock_wrlock(&k->page_lock);
	storestat_close(k->page);
	k->page = fresh;
	pthread_rwlock_unlock(&k->page_lock);
}

/* The store's generation (0: not fresh) and progress. */
static uint64_t generation(struct cache *k, uint64_t *progress)
{
	int64_t now = clock_now_ns();
	uint64_t g;

	pthread_rwlock_rdlock(&k->page_lock);
	g = storestat_fresh(k->page, now, progress);
	pthread_rwlock_unlock(&k->page_lock);
	if (g == 0)
		maybe_attach(k, now);
	return g;
}

static int page_gone(struct cache *k)
{
	int gone;

	pthread_rwlock_rdlock(&k->page_lock);
	gone = storestat_gone(k->page);
	pthread_rwlock_unlock(&k->page_lock);
	return gone;
}

int cache_store_gone(struct cache *k)
{
	if (!k || !page_gone(k))
		return 0;
	/* a store started over reopens the page or makes a new one */
	maybe_attach(k, clock_now_ns());
	return page_gone(k);
}

uint64_t cache_generation(struct cache *k)
{
	uint64_t progress;

	return generation(k, &progress);
}

int cache_store_counters(struct cache *k, uint64_t out[])
{
	struct storestat_page *p;
	int ok = 0;

	cache_generation(k); /* attaches when needed */
	pthread_rwlock_rdlock(&k->page_lock);
	if ((p = storestat_page(k->page))) {
		for (int i = 0; i < STORESTAT_COUNT; i++)
			out[i] = atomic_load_explicit(&p->v[i], memory_order_relaxed);
		ok = 1;
	}
	pthread_rwlock_unlock(&k->page_lock);
	return ok;
}

void cache_stats(struct cache *k, unsigned long long *hit, unsigned long long *miss,
		 unsigned long long *behind_progress)
{
	*hit = atomic_load(&k->hits);
	*miss = atomic_load(&k->misses);
	*behind_progress = atomic_load(&k->behind);
}

/* The slot's response for key at generation gen, referenced, and the progress
 * it was fetched at; NULL if none. */
static struct blob *lookup(struct cache *k, const char *key, uint64_t gen, uint64_t *progress)
{
	struct blob *b = NULL;

	pthread_rwlock_rdlock(&k->lock);
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &k->slots[i];

		if (s->b && s->gen == gen && strcmp(s->key, key) == 0) {
			b = s->b;
			*progress = s->progress;
			atomic_fetch_add(&b->ref, 1);
			atomic_store_explicit(&s->used, atomic_fetch_add(&k->tick, 1) + 1,
					      memory_order_relaxed);
			break;
		}
	}
	pthread_rwlock_unlock(&k->lock);
	return b;
}

static void insert(struct cache *k, const char *key, uint64_t gen, uint64_t progress,
		   struct blob *b)
{
	struct slot *victim = &k->slots[0];

	atomic_fetch_add(&b->ref, 1); /* the table's reference */
	pthread_rwlock_wrlock(&k->lock);
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &k->slots[i];

		if (s->b && strcmp(s->key, key) == 0) {
			victim = s;
			break;
		}
		if (!s->b || s->used < victim->used)
			victim = s;
	}
	blob_put(victim->b);
	snprintf(victim->key, sizeof victim->key, "%s", key);
	victim->gen = gen;
	victim->progress = progress;
	victim->b = b;
	atomic_store(&victim->used, atomic_fetch_add(&k->tick, 1) + 1);
	pthread_rwlock_unlock(&k->lock);
}

/* b's response gzipped: made by the first request that wants it and kept with
 * b (borrowed); NULL when out of memory. */
static struct blob *gzipped(struct blob *b)
{
	struct blob *g = atomic_load(&b->gz), *none = NULL;
	char head[HTTP_HEAD_MAX], *z;
	size_t zlen, hlen;

	if (g)
		return g;
	if (gzip_compress(b->data + b->head_len, b->len - b->head_len, 0, &z, &zlen) < 0)
		return NULL;
	hlen = gzip_head(head, sizeof head, 200, zlen);
	if (hlen && (g = malloc(sizeof *g + hlen + zlen))) {
		atomic_init(&g->ref, 1);
		g->len = hlen + zlen;
		g->head_len = hlen;
		atomic_init(&g->gz, NULL);
		memcpy(g->data, head, hlen);
		memcpy(g->data + hlen, z, zlen);
	}
	free(z);
	if (g && !atomic_compare_exchange_strong(&b->gz, &none, g)) { /* another made it first */
		free(g);
		g = none;
	}
	return g;
}

static int send_blob(struct api *api, struct mg_connection *c, struct blob *b)
{
	struct blob *w = gzip_wanted(c, b->len - b->head_len) ? gzipped(b) : NULL;
	int rc;

	if (!w)
		w = b;
	http_count(api, 200);
	rc = mg_write(c, w->data, w->len);
	blob_put(b);
	return rc > 0 ? 200 : -1;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The slot key of cmd with args (kind: "" for a response, "call " for a
 * result) in key[KEY_MAX]: 0, or -1 when it does not fit. */
static int make_key(char *key, const char *kind, const char *cmd, json_t *args)
{
	char *argtext = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	int n = snprintf(key, KEY_MAX, "%s%s %s", kind, cmd, argtext ? argtext : "");

	free(argtext);
	return n < 0 || n >= KEY_MAX ? -1 : 0;
}

/*
 * The answer kept for key at the store's state generation, or fetched and kept:
 * 1 with *out referenced (NULL when fetched but not kept: out of memory), 0
 * when the store looks down (no queueing behind the fill lock: the caller asks
 * it directly), -1 when fetch failed (its ctx says why). One request fetches a
 * key at a time (its fill lock); the others wait and take its answer. With
 * any_progress, an answer kept at an older recording progress is served as it
 * is; without, it is refreshed by one request while the others are served it
 * (counted "behind"). fetch: 0 with *out (a new blob, or NULL when it could
 * not be kept), or -1.
 */
static int cached(struct cache *k, const char *key, bool any_progress,
		  int (*fetch)(void *ctx, struct blob **out), void *ctx, struct blob **out)
{
	uint64_t prog, have, gen = generation(k, &prog);
	pthread_mutex_t *f = &k->fill[hash(key) % FILL_LOCKS];
	struct blob *b;

	*out = NULL;
	if (gen == 0)
		return 0;
	if ((b = lookup(k, key, gen, &have))) {
		if (any_progress || have == prog) {
			atomic_fetch_add(&k->hits, 1);
			*out = b;
			return 1;
		}
		if (pthread_mutex_trylock(f) != 0) { /* behind on progress, being refreshed */
			atomic_fetch_add(&k->behind, 1);
			*out = b;
			return 1;
		}
		blob_put(b); /* this request refreshes it */
	} else {
		pthread_mutex_lock(f);
	}
	gen = generation(k, &prog); /* it may have moved while we waited */
	if (gen == 0) {             /* the store stopped beating meanwhile */
		pthread_mutex_unlock(f);
		return 0;
	}
	if ((b = lookup(k, key, gen, &have))) {
		if (any_progress || have == prog) { /* another request fetched it meanwhile */
			pthread_mutex_unlock(f);
			atomic_fetch_add(&k->hits, 1);
			*out = b;
			return 1;
		}
		blob_put(b);
	}
	atomic_fetch_add(&k->misses, 1);
	/* gen and prog were read before asking: an answer is never labelled newer than it is */
	if (fetch(ctx, &b) < 0) {
		pthread_mutex_unlock(f);
		return -1;
	}
	if (b)
		insert(k, key, gen, prog, b);
	pthread_mutex_unlock(f);
	*out = b;
	return 1;
}

/* A store command asked for cached: its result, or its error. */
struct ask {
	struct api *api;
	const char *cmd;
	json_t *args; /* the caller's */
	json_t *res;  /* the result, when asked */
	char *code, *message;
	size_t code_cap, msg_cap;
};

static int ask_store(struct ask *a)
{
	json_incref(a->args); /* proxy_call steals it; the caller still owns its own */
	return proxy_call(a->api, a->cmd, a->args, &a->res, a->code, a->code_cap, a->message,
			  a->msg_cap);
}

/* The result as a whole HTTP response (cache_reply's blobs). */
static int fetch_response(void *ctx, struct blob **out)
{
	struct ask *a = ctx;
	size_t len;
	char *all;

	if (ask_store(a) < 0)
		return -1;
	all = http_response(200, proxy_public(a->res), &len); /* takes the result */
	a->res = NULL;
	/* after http_response's head: the body */
	*out = all ? blob_new(all, len, (size_t)(strstr(all, "\r\n\r\n") - all) + 4) : NULL;
	free(all);
	if (!*out) {
		snprintf(a->code, a->code_cap, "%s", MSG_E_INTERNAL);
		snprintf(a->message, a->msg_cap, "out of memory");
		return -1;
	}
	return 0;
}

/* The result as JSON text (cache_call's blobs); kept when there is memory for it. */
static int fetch_result(void *ctx, struct blob **out)
{
	struct ask *a = ctx;
	char *text;

	if (ask_store(a) < 0)
		return -1;
	text = json_dumps(a->res, JSON_COMPACT | JSON_ENCODE_ANY);
	*out = text ? blob_new(text, strlen(text), 0) : NULL;
	free(text);
	return 0;
}

int cache_reply(struct api *api, struct mg_connection *c, const char *cmd, json_t *args)
{
	char key[KEY_MAX], code[64], message[512];
	struct ask a = { api, cmd, args, NULL, code, message, sizeof code, sizeof message };
	struct blob *b;
	int rc;

	if (make_key(key, "", cmd, args) < 0 || /* an odd key, or the store looks down */
	    (rc = cached(api->cache, key, false, fetch_response, &a, &b)) == 0)
		return proxy_reply(api, c, cmd, args, 200);
	json_decref(a.res);
	json_decref(args);
	if (rc < 0)
		return http_error(api, c, http_status_for(code), code, "%s", message);
	return send_blob(api, c, b);
}

/* A kept result as JSON (new reference), NULL when out of memory; b released. */
static json_t *blob_json(struct blob *b)
{
	json_t *res = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);

	blob_put(b);
	return res;
}

int cache_call(struct api *api, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap)
{
	char key[KEY_MAX];
	struct ask a = { api, cmd, args, NULL, code, message, code_cap, msg_cap };
	struct blob *b;
	int rc;

	*result = NULL;
	if (make_key(key, "call ", cmd, args) < 0 || /* the store looks down */
	    (rc = cached(api->cache, key, true, fetch_result, &a, &b)) == 0)
		return proxy_call(api, cmd, args, result, code, code_cap, message, msg_cap);
	json_decref(args);
	if (rc < 0)
		return -1;
	if (a.res) { /* asked now */
		*result = a.res;
		blob_put(b);
		return 0;
	}
	if (!(*result = blob_json(b))) {
		snprintf(code, code_cap, "%s", MSG_E_INTERNAL);
		snprintf(message, msg_cap, "out of memory");
		return -1;
	}
	return 0;
}
