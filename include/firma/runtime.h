/*
 * The runtime: scheduler, runs and the context an agent sees. This header
 * grows with issue 3 (docs/runtime.md has the plan); so far it holds the
 * context builder.
 *
 * The context is laid out for provider prefix caches: the system prompt holds
 * only what changes rarely — firma's rules, the company, the role's
 * instructions, and last the agent's own place in the org chart — so it is
 * byte-identical across an agent's wakes, and up to the identity block across
 * agents of one role. What changes per wake (notes, what woke it) goes in the
 * first user message.
 */
#ifndef FIRMA_RUNTIME_H
#define FIRMA_RUNTIME_H

#include "firma/llm.h"
#include "firma/store.h"

typedef struct fm_context {
    char *system;           /* the stable prefix */
    const fm_tool_def **tools; /* the built-ins the agent is granted, in fixed order */
    size_t n_tools;
    char *wake_text;        /* the first user message: notes, then what woke the agent */
    const char *wake_kind;  /* the first wake's kind ("task", "message" ...) */
    fm_id task_id;          /* the task the run is about (first task wake), or 0 */
    bool tainted;           /* a wake carries content from outside the company */
} fm_context;

/* Builds the context of run `run` from the store: the agent, its company and
 * place in the org chart, its notes and the wakes the run took. */
int fm_context_build(fm_store *s, fm_id run, fm_context *out, fm_error *err);
void fm_context_release(fm_context *c);

#endif
