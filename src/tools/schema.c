/*
 * Checking tool arguments against a JSON Schema subset (see tools.h). The
 * schemas are firma's own, so an unknown keyword in one is a programming
 * error; the arguments are a model's, so every mismatch is reported in words
 * the model can act on.
 */
#include "firma/base.h"
#include "firma/tools.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static int fail(fm_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(fm_error *err, const char *path, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (*path)
        return fm_error_set(err, FM_EINVAL, "argument '%s': %s", path, what);
    return fm_error_set(err, FM_EINVAL, "arguments: %s", what);
}

static const char *kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int check(const json_t *schema, const json_t *v, const char *path, fm_error *err);

static int check_enum(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    const json_t *e = json_object_get(schema, "enum");
    if (!e)
        return FM_OK;
    size_t i;
    const json_t *opt;
    json_array_foreach(e, i, opt)
        if (json_equal(opt, v))
            return FM_OK;
    char *allowed = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = fail(err, path, "must be one of %s", allowed ? allowed : "the listed values");
    free(allowed);
    return rc;
}

static int check_string(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    size_t len = json_string_length(v);
    json_int_t min = json_integer_value(json_object_get(schema, "minLength"));
    const json_t *max = json_object_get(schema, "maxLength");
    if ((json_int_t)len < min)
        return min == 1 ? fail(err, path, "must not be empty")
                        : fail(err, path, "must be at least %lld characters", (long long)min);
    if (max && (json_int_t)len > json_integer_value(max))
        return fail(err, path, "must be at most %lld characters (got %zu)",
                    (long long)json_integer_value(max), len);
    return FM_OK;
}

static int check_number(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    double x = json_number_value(v);
    const json_t *lo = json_object_get(schema, "minimum"), *hi = json_object_get(schema, "maximum");
    if ((lo && x < json_number_value(lo)) || (hi && x > json_number_value(hi)))
        return fail(err, path, "must be from %g to %g", lo ? json_number_value(lo) : -INFINITY,
                    hi ? json_number_value(hi) : INFINITY);
    return FM_OK;
}

static int check_object(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    const json_t *name;
    json_array_foreach(req, i, name) {
        if (!json_object_get(v, json_string_value(name)))
            return fail(err, path, "missing required argument '%s'", json_string_value(name));
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        const json_t *sub = json_object_get(props, key);
        fm_buf p = FM_BUF_INIT;
        fm_buf_addf(&p, "%s%s%s", path, *path ? "." : "", key);
        int rc = FM_OK;
        if (sub)
            rc = check(sub, val, p.ptr, err);
        else if (json_is_false(json_object_get(schema, "additionalProperties")))
            rc = fail(err, path, "unknown argument '%s'", key);
        fm_buf_release(&p);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

static int check_array(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    const json_t *items = json_object_get(schema, "items");
    size_t i;
    const json_t *el;
    json_array_foreach(v, i, el) {
        fm_buf p = FM_BUF_INIT;
        fm_buf_addf(&p, "%s[%zu]", path, i);
        int rc = items ? check(items, el, p.ptr, err) : FM_OK;
        fm_buf_release(&p);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

static int check(const json_t *schema, const json_t *v, const char *path, fm_error *err)
{
    const char *type = json_string_value(json_object_get(schema, "type"));
    int rc = FM_OK;
    if (!type)
        rc = FM_OK;
    else if (strcmp(type, "object") == 0)
        rc = json_is_object(v) ? check_object(schema, v, path, err)
                               : fail(err, path, "expected an object, got %s", kind_of(v));
    else if (strcmp(type, "string") == 0)
        rc = json_is_string(v) ? check_string(schema, v, path, err)
                               : fail(err, path, "expected a string, got %s", kind_of(v));
    else if (strcmp(type, "integer") == 0)
        rc = json_is_integer(v) ? check_number(schema, v, path, err)
                                : fail(err, path, "expected an integer, got %s", kind_of(v));
    else if (strcmp(type, "number") == 0)
        rc = json_is_number(v) ? check_number(schema, v, path, err)
                               : fail(err, path, "expected a number, got %s", kind_of(v));
    else if (strcmp(type, "boolean") == 0)
        rc = json_is_boolean(v) ? FM_OK
                                : fail(err, path, "expected true or false, got %s", kind_of(v));
    else if (strcmp(type, "array") == 0)
        rc = json_is_array(v) ? check_array(schema, v, path, err)
                              : fail(err, path, "expected a list, got %s", kind_of(v));
    return rc == FM_OK ? check_enum(schema, v, path, err) : rc;
}

int fm_schema_check(const char *schema_json, const char *args_json, fm_error *err)
{
    if (!args_json)
        return fail(err, "", "none were given; send a JSON object");
    size_t len = strlen(args_json);
    if (len > FM_TOOL_ARGS_MAX)
        return fm_error_set(err, FM_ETOOBIG, "arguments: %zu bytes, over the %d-byte limit", len,
                            FM_TOOL_ARGS_MAX);
    json_error_t je;
    json_t *schema = json_loads(schema_json, 0, &je);
    if (!schema)
        return fm_error_set(err, FM_EINVAL, "internal: a tool schema is not JSON: %s", je.text);
    /* An empty argument string means "no arguments" to several providers. */
    json_t *args = len ? json_loads(args_json, JSON_REJECT_DUPLICATES, &je) : json_object();
    int rc;
    if (!args)
        rc = fail(err, "", "not valid JSON at character %d: %s", je.position, je.text);
    else
        rc = check(schema, args, "", err);
    json_decref(args);
    json_decref(schema);
    return rc;
}
