/*
 * Firing agents' timers: the one operation the runtime (and the bench) call.
 * The store keeps each agent's next timer and its index (store.h, "timers");
 * this takes a batch of due ones and fires them in one transaction.
 *
 * Not audited: a timer is no one's action, and a heartbeat of a minute
 * would fill the chain with nothing. The run it causes writes its steps,
 * and what the agent does is audited as usual.
 */
#include "firma/ops.h"

#include <stdlib.h>

int fm_timers_fire(fm_store *s, int64_t now, size_t limit, size_t *fired, size_t *woke,
                   fm_error *err)
{
    fm_timer *v = NULL;
    size_t n = 0;
    *fired = *woke = 0;
    /* Read outside the transaction: most ticks find nothing due and take no
     * write lock. What was read is checked again as each timer fires
     * (timer_fire compares next_timer_at), so a timer changed in between is
     * left alone. */
    int rc = s->ops->timer_due(s, now, limit, &v, &n, err);
    if (rc != FM_OK || n == 0) {
        free(v);
        return rc;
    }
    rc = s->ops->begin(s, err);
    for (size_t i = 0; rc == FM_OK && i < n; i++) {
        bool w = false;
        rc = s->ops->timer_fire(s, &v[i], now, &w, err);
        *woke += w;
    }
    free(v);
    rc = fm_store_end(s, rc, err);
    if (rc == FM_OK)
        *fired = n;
    else
        *woke = 0;
    return rc;
}
