/*
 * libFuzzer target: company.yaml and agents/<handle>.md readers. The first
 * byte picks the reader; the rest is the file's text. Any input must give
 * FM_OK or a clean error, with no crash, leak or undefined behaviour. An
 * agent's schedule that reads well is also evaluated (the next fire time),
 * so any cron line firma accepts is one it can compute without hanging.
 *   make fuzz          (runs each target for FUZZ_SECONDS)
 */
#include "core/files/internal.h"
#include "firma/schedule.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    fm_error err;
    if (data[0] & 1) {
        fm_company_spec s;
        memset(&s, 0, sizeof s);
        fm__where w = {0};
        fm__read_company(text, size - 1, &s, &w, &err);
        fm__where_release(&w);
        fm_spec_release(&s);
    } else {
        fm_agent_spec a;
        int ml = 0, al = 0;
        if (fm__read_agent("fuzz", text, size - 1, &a, &ml, &al, &err) == FM_OK) {
            /* Some time between 1970 and 2100 that varies with the input. */
            int64_t after = (int64_t)(size * 2654435761u % 4102444800u) * 1000000;
            int64_t next = fm_schedule_next(&a.agent.schedule, after);
            if (next && next <= after)
                __builtin_trap(); /* the next time must be after */
            fm__agent_spec_release(&a);
        }
    }
    return 0;
}
