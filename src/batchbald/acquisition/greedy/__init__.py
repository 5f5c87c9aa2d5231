"""The greedy engine behind BatchBALD, BatchEIG and BatchEvaluationBALD.

Every greedy batch rule here maximises a(A) = f_train(A) − f_eval(A) one pick at a time,
f(A) = H(y_A) − λ Σ_{a∈A} E_ω H(y_a | ω); BatchBALD (Kirsch, van Amersfoort, Gal 2019) is the
case without an evaluation term (λ = 1). The modules:

* :mod:`~batchbald.acquisition.greedy.options`: the options every entry point shares.
* :mod:`~batchbald.acquisition.greedy.engine`: the (lazy) greedy loop and the bound state it
  carries from step to step.
* :mod:`~batchbald.acquisition.greedy.terms`: one model's term of the gain and its
  configurations.
* :mod:`~batchbald.acquisition.greedy.single` and :mod:`~batchbald.acquisition.greedy.paired`:
  the objectives with one term (BatchBALD) and two (the evaluation rules), with their bounds.
* :mod:`~batchbald.acquisition.greedy.gains`, :mod:`~batchbald.acquisition.greedy.grouping`:
  the GEMMs that score candidates and the configuration groups behind the bounds.

Why lazy greedy picks what full greedy picks is proved in ``docs/greedy.md``.
"""
