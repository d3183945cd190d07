/* Operations on messages: delivering one to an agent, which wakes it. */
#include "core/ops_int.h"
#include "firma/base.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

bool fm_actor_inside(const char *from)
{
    return strncmp(from, "agent:", 6) == 0 || strncmp(from, "member:", 7) == 0 ||
           strncmp(from, "cli:", 4) == 0;
}

int fm_message_deliver(fm_store *s, const char *actor, fm_id company, fm_id to_agent,
                       const char *from, const char *text, fm_id *message_id, fm_error *err)
{
    if (!from || !*from || !strchr(from, ':'))
        return fm_error_set(err, FM_EINVAL, "a sender is written KIND:ID, e.g. customer:x@y.z");
    if (!text || !*text)
        return fm_error_set(err, FM_EINVAL, "an empty message");
    fm_agent a;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK && (rc = fm__agent_of(s, company, to_agent, true, &a, err)) == FM_OK)
        fm_agent_release(&a);
    fm_id thread = 0;
    char subject[64];
    snprintf(subject, sizeof subject, "%.60s", text);
    if (rc == FM_OK)
        rc = s->ops->thread_insert(s, company, subject, 0, &thread, err);
    fm_message m = {.thread_id = thread, .company_id = company, .sender = (char *)from,
                    .body = (char *)text, .tainted = !fm_actor_inside(from)};
    if (rc == FM_OK)
        rc = s->ops->message_insert(s, &m, err);
    if (rc == FM_OK)
        rc = fm__wake(s, company, to_agent, FM_WAKE_MESSAGE, m.id, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("message:%lld", (long long)m.id);
        rc = fm__audit(s, company, actor, "message.deliver", obj,
                       fm__details("{s:s, s:I, s:b, s:I}", "from", from, "to", (json_int_t)to_agent,
                                   "tainted", m.tainted, "bytes", (json_int_t)strlen(text)),
                       err);
        free(obj);
    }
    if (rc == FM_OK && message_id)
        *message_id = m.id;
    return fm_store_end(s, rc, err);
}
