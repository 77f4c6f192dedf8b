//! The learning loop: signals stored per decision, outcomes at 1 h / 4 h / 24 h / 7 d, decision
//! quality, the playbook, and the LLM advisor behind strict output validation.
