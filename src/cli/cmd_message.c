/* firma message: deliver a message to an agent, as a channel would. */
#include "cli/cli.h"

#include <string.h>

static int message_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("message", "want: message AGENT TEXT [--from KIND:ID]");
    fm_agent ag;
    int rc = cli_agent(c, a->pos[0], &ag);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    /* Without --from, the message is from whoever runs the command. */
    const char *from = cli_opt(a, "from") ? cli_opt(a, "from") : c->actor;
    fm_id id = 0;
    rc = fm_message_deliver(c->store, c->actor, c->company.id, ag.id, from, a->pos[1], &id,
                            &c->err);
    fm_agent_release(&ag);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("message #%lld delivered to %s%s\n", (long long)id, a->pos[0],
           fm_actor_inside(from) ? "" : " (from outside the company: marked tainted)");
    return 0;
}

const cli_command cmd_message = {
    .name = "message",
    .summary = "deliver a message to an agent",
    .usage = "usage: firma message AGENT TEXT [--from KIND:ID]\n\n"
             "Delivers TEXT to the agent and wakes it, as a chat channel would. --from says\n"
             "who wrote it (default: you): a sender outside the company, such as\n"
             "customer:x@y.z, marks the message tainted, so it cannot drive a privileged\n"
             "tool without approval.\n",
    .options = "from=",
    .run = message_run,
    .needs_company = true,
};
