"""One router per resource: pages, annotators, answers, items, proposals and state."""
