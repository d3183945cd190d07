/* Members, the people of a company: list, add and remove, as `firma member`
 * does, through fm_member_add and fm_member_rm (which keep the org chart's
 * rules: one owner, who cannot be removed, and no removing a member agents
 * report to).
 *
 * One rule is the API's own, as no CLI user needs it: nobody acts above
 * their own role. An admin cannot add an owner, nor remove a member whose
 * role is higher than theirs; the role is the token's (capped) one. */
#include "http/api.h"

#include <string.h>

#define NAME_MAX_BYTES 200
#define CHANNELS_MAX 16
#define CHANNEL_TEXT_MAX 256

static json_t *member_json(const fm_member *m)
{
    json_t *channels = json_object();
    for (size_t k = 0; k < m->n_identities; k++)
        json_object_set_new(channels, m->identities[k].channel,
                            json_string(m->identities[k].ident));
    return json_pack("{s:s, s:s?, s:s, s:o}", "handle", m->handle, "name", m->name, "role",
                     fm_role_name(m->role), "channels", channels);
}

static void list_members(fm_api_req *rq, fm_api_res *rs)
{
    fm_member *m = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->member_list(rq->store, rq->who.company_id, &m, &n, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, member_json(&m[i]));
    fm__api_ok(rs, 200, json_pack("{s:o}", "members", arr));
    fm_member_list_free(m, n);
}

/* Whether the caller may act on someone of role `role`: false with a 403
 * set if it is higher than the caller's own. */
static bool not_above_caller(fm_api_req *rq, fm_api_res *rs, fm_role role, const char *what)
{
    if (role >= rq->who.role)
        return true;
    fm__api_error(rs, 403, "forbidden", "role", "this token acts as %s: it cannot %s %s",
                  fm_role_name(rq->who.role), what, fm_role_name(role));
    return false;
}

/* The body's channels ({"telegram": "123"}) into m->identities: false with
 * a 422 naming the field if one is not a non-empty string. */
static bool channels_of(json_t *channels, fm_member *m, fm_api_res *rs)
{
    if (json_object_size(channels) > CHANNELS_MAX) {
        fm__api_error(rs, 422, "invalid", "channels", "channels: at most %d", CHANNELS_MAX);
        return false;
    }
    const char *kind;
    json_t *v;
    json_object_foreach(channels, kind, v) {
        const char *id = json_string_value(v);
        if (!*kind || strlen(kind) > CHANNEL_TEXT_MAX || !id || !*id ||
            strlen(id) > CHANNEL_TEXT_MAX) {
            fm__api_error(rs, 422, "invalid", "channels", "channels: want {\"KIND\": \"ID\"}, "
                          "e.g. {\"telegram\": \"123456\"}, each 1 to %d bytes",
                          CHANNEL_TEXT_MAX);
            return false;
        }
        m->identities = fm_xreallocarray(m->identities, m->n_identities + 1,
                                         sizeof *m->identities);
        m->identities[m->n_identities].channel = fm_xstrdup(kind);
        m->identities[m->n_identities++].ident = fm_xstrdup(id);
    }
    return true;
}

static const fm_api_field add_fields[] = {
    {"handle", FM_API_STRING, true}, {"name", FM_API_STRING_OR_NULL, false},
    {"role", FM_API_STRING, false},  {"channels", FM_API_OBJECT, false},
    {NULL},
};

/* Fills `m` from the body: false with rs set if a field is not acceptable. */
static bool member_of(fm_api_req *rq, fm_api_res *rs, json_t *b, fm_member *m)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *role = json_string_value(json_object_get(b, "role"));
    json_t *channels = json_object_get(b, "channels");
    int r = FM_ROLE_VIEWER;
    m->company_id = rq->who.company_id;
    m->handle = fm_xstrdup(json_string_value(json_object_get(b, "handle")));
    m->name = name ? fm_xstrdup(name) : NULL;
    if (!fm__api_text(rs, b, "name", 0, NAME_MAX_BYTES))
        return false;
    if (role && fm_role_parse(role, &r) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "role", "role %s: want one of %s", role,
                      fm_role_words());
        return false;
    }
    m->role = (fm_role)r;
    return not_above_caller(rq, rs, m->role, "add a member as") &&
           (!channels || channels_of(channels, m, rs));
}

static void add_member(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, add_fields);
    if (!b)
        return;
    fm_member m;
    memset(&m, 0, sizeof m);
    fm_error err = {0};
    if (member_of(rq, rs, b, &m)) {
        if (fm_member_add(rq->store, rq->who.actor, &m, &err) == FM_OK)
            fm__api_ok(rs, 201, member_json(&m));
        else
            fm__api_fail(rs, &err);
    }
    fm_member_release(&m);
    json_decref(b);
}

static void remove_member(fm_api_req *rq, fm_api_res *rs)
{
    const char *handle = rq->params[0];
    fm_member m;
    fm_error err = {0};
    int rc = rq->store->ops->member_find(rq->store, rq->who.company_id, handle, &m, &err);
    if (rc == FM_ENOTFOUND) {
        fm__api_error(rs, 404, "not_found", NULL, "no member '%s' in this company", handle);
        return;
    }
    if (rc != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    fm_role role = m.role;
    fm_member_release(&m);
    if (!not_above_caller(rq, rs, role, "remove a member who is"))
        return;
    if (fm_member_rm(rq->store, rq->who.actor, rq->who.company_id, handle, &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        fm__api_ok(rs, 200, json_pack("{s:s, s:b}", "handle", handle, "removed", 1));
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/members", .handler = list_members,
     .least = FM_ROLE_VIEWER, .summary = "The company's members, with their roles and channels"},
    {.method = FM_HTTP_POST, .pattern = "/v1/members", .handler = add_member,
     .least = FM_ROLE_ADMIN,
     .summary = "Add a member: {\"handle\", \"name\", \"role\" (not above the caller's), "
                "\"channels\": {\"telegram\": \"ID\"}}"},
    {.method = FM_HTTP_DELETE, .pattern = "/v1/members/{handle}", .handler = remove_member,
     .least = FM_ROLE_ADMIN,
     .summary = "Remove a member (not the owner, nor one agents report to); their tokens are "
                "revoked"},
};

const fm_api_resource fm__api_members = {"members", routes, sizeof routes / sizeof routes[0]};
