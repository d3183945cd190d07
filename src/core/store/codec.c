/* JSON columns for grants and policies (see codec.h). */
#include "core/store/codec.h"
#include "firma/base.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        abort(); /* only on allocation failure: strings were checked UTF-8 on the way in */
    char *r = fm_xstrdup(s);
    free(s);
    return r;
}

char *fm__grants_encode(const fm_grant *g, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "tool", json_string(g[i].tool));
        json_object_set_new(o, "on", strv_json(g[i].on, g[i].n_on));
        json_object_set_new(o, "ceiling", json_string(fm_ceiling_name(g[i].ceiling)));
        json_array_append_new(a, o);
    }
    return dump(a);
}

char *fm__policies_encode(const fm_policies *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "max_autonomy", json_integer(p->max_autonomy));
    json_object_set_new(o, "ask_for", strv_json(p->ask_for, p->n_ask_for));
    json_object_set_new(o, "tainted", json_string(fm_ceiling_name(p->tainted)));
    return dump(o);
}

static int strv_decode(json_t *a, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(a))
        return FM_ESTORE;
    size_t len = json_array_size(a);
    char **v = fm_xcalloc(len ? len : 1, sizeof *v);
    for (size_t i = 0; i < len; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        v[i] = fm_xstrdup(s ? s : "");
    }
    *out = v;
    *n = len;
    return FM_OK;
}

int fm__grants_decode(const char *text, fm_grant **out, size_t *n, fm_error *err)
{
    *out = NULL;
    *n = 0;
    json_t *a = json_loads(text ? text : "[]", 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return fm_error_set(err, FM_ESTORE, "stored grants are not a JSON array");
    }
    size_t len = json_array_size(a);
    fm_grant *g = fm_xcalloc(len ? len : 1, sizeof *g);
    for (size_t i = 0; i < len; i++) {
        json_t *o = json_array_get(a, i);
        int c = FM_CEIL_DENY;
        fm_ceiling_parse(json_string_value(json_object_get(o, "ceiling")), &c);
        g[i].tool = fm_xstrdup(json_string_value(json_object_get(o, "tool")));
        g[i].ceiling = (fm_ceiling)c;
        strv_decode(json_object_get(o, "on"), &g[i].on, &g[i].n_on);
    }
    json_decref(a);
    *out = g;
    *n = len;
    return FM_OK;
}

int fm__policies_decode(const char *text, fm_policies *out, fm_error *err)
{
    json_t *o = json_loads(text ? text : "{}", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return fm_error_set(err, FM_ESTORE, "stored policies are not a JSON object");
    }
    json_t *ma = json_object_get(o, "max_autonomy");
    out->max_autonomy = json_is_integer(ma) ? (int)json_integer_value(ma) : 2;
    int c = FM_CEIL_ASK;
    fm_ceiling_parse(json_string_value(json_object_get(o, "tainted")), &c);
    out->tainted = (fm_ceiling)c;
    json_t *ask = json_object_get(o, "ask_for");
    if (ask)
        strv_decode(ask, &out->ask_for, &out->n_ask_for);
    json_decref(o);
    return FM_OK;
}
