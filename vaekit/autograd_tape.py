"""A cheaper backward pass for autograd: the same gradients, with less Python work and fewer copies.

Reverse mode visits the nodes of the tape from the output back to the input; each node turns the gradient g of
its output into gradients of its inputs (its VJP), and a value used by several operations receives the sum of
their gradients. autograd (``autograd.core.backward_pass``) forms that sum with ``add_outgrads``: a
``vspace`` object and a call of the primitive ``VSpace.add`` for every addition.

:func:`backward_pass` is autograd's loop with two faster paths, chosen only where they give the same values:

* two NumPy arrays of one shape and dtype are added directly: ``g1 + g2`` the first time (a new array, since
  g1 may be shared), ``g += g3`` in place after that (the sum is then ours), as autograd does;
* gradients of the items of a list or tuple (``parts[i]`` of ``parts = np.split(theta, ...)``, autograd's
  ``container_take``) are kept aside, item by item, and the list is built once when its node is reached.
  autograd instead makes a list of zero arrays as large as the whole container for the first item's gradient
  and adds every item's gradient into it: for the parameter vector of the VAE that is P = 652,824 zeros written
  and P additions per step, before ``np.split``'s VJP copies everything once more into one vector.

Everything else (boxes of a nested trace, sparse or container gradients of other kinds, mixed dtypes or shapes)
goes through autograd's own ``add_outgrads``. :func:`unbroadcast_f` is autograd's helper of the same name with
the metadata of a NumPy array read from its attributes instead of four calls of traced NumPy functions.
"""

from __future__ import annotations

import numpy as onp
from autograd import builtins as ag_builtins
from autograd import core as ag_core
from autograd.numpy import numpy_vjps
from autograd.numpy.numpy_vspaces import ArrayVSpace
from autograd.util import toposort

_ndarray = onp.ndarray


class Untaken:
    r"""The gradient of ``A[idx]`` with respect to the whole container A: g at item idx, 0 elsewhere.

    What autograd's ``container_untake(g, idx, vspace(A))`` stands for, kept as (g, idx, A) so that
    :func:`backward_pass` can collect the items of a list one by one; :meth:`sparse` is autograd's own object.
    """

    __slots__ = ("g", "idx", "A")

    def __init__(self, g, idx, A):
        self.g, self.idx, self.A = g, idx, A

    def sparse(self):
        """autograd's ``SparseObject`` for the same gradient."""
        return ag_builtins.container_untake.fun(self.g, self.idx, ag_core.vspace(self.A))


def container_take_vjp(ans, A, idx):
    r"""d A[idx] / dA: g placed at item idx of a container shaped like A (autograd's VJP of ``container_take``).

    An :class:`Untaken` for an integer index into a list or tuple and a plain gradient g; otherwise autograd's
    ``container_untake`` (a traced primitive when g is itself being differentiated).
    """
    if (type(A) is list or type(A) is tuple) and type(idx) is int:
        def vjp(g):
            # Only this module's backward pass knows an Untaken: a gradient of a gradient, or a VJP function of
            # make_vjp called after the fixes were uninstalled, gets autograd's object.
            if ag_core.isbox(g) or ag_core.backward_pass is not backward_pass:
                return ag_builtins.container_untake(g, idx, ag_core.vspace(A))
            return Untaken(g, idx, A)
        return vjp
    return lambda g: ag_builtins.container_untake(g, idx, ag_core.vspace(A))


class PendingItems:
    """The gradient of a list or tuple being collected item by item: ``{idx: (array, owned)}``.

    ``owned`` says whether the array was made here (and may be added into in place) or is another node's
    gradient (added into only after a copy).
    """

    __slots__ = ("vs", "items")

    def __init__(self, vs):
        self.vs, self.items = vs, {}

    def add(self, idx, g):
        r"""items[idx] += g, in the item's vector space (the dtype and shape of the item's value)."""
        item_vs = self.vs.shape[idx]
        entry = self.items.get(idx)
        if entry is None:
            if (type(item_vs) is ArrayVSpace and type(g) is _ndarray and g.shape == item_vs.shape
                    and g.dtype == item_vs.dtype):
                self.items[idx] = (g, False)
            else:  # autograd's way: zeros of the item, g added in place
                self.items[idx] = (item_vs._mut_add(item_vs.zeros(), g), True)
            return
        value, owned = entry
        if not owned:
            value = item_vs._mut_add(item_vs.zeros(), value)
        self.items[idx] = (item_vs._mut_add(value, g), True)

    def build(self, owned=False):
        """The container: collected items, zeros for the others; ``owned=True`` copies borrowed items."""
        items = []
        for idx, item_vs in enumerate(self.vs.shape):
            entry = self.items.get(idx)
            if entry is None:
                items.append(item_vs.zeros())
            elif owned and not entry[1]:
                items.append(item_vs._mut_add(item_vs.zeros(), entry[0]))
            else:
                items.append(entry[0])
        return self.vs.seq_type(items)


def add_outgrads(prev_g_flagged, g):
    r"""(sum so far, owned) + g: autograd's ``add_outgrads`` with the fast paths of the module docstring."""
    t = type(g)
    if t is Untaken:
        if prev_g_flagged is None:
            pending = PendingItems(ag_core.vspace(g.A))
            pending.add(g.idx, g.g)
            return pending, True
        prev_g = prev_g_flagged[0]
        if type(prev_g) is PendingItems:  # the items of the same container: the value of the node they reach
            prev_g.add(g.idx, g.g)
            return prev_g_flagged
        g = g.sparse()
        t = type(g)
    if prev_g_flagged is None:
        if t in ag_core.sparse_object_types:
            return ag_core.add_outgrads(None, g)
        return g, False
    prev_g, owned = prev_g_flagged
    if type(prev_g) is PendingItems:
        prev_g_flagged = (prev_g.build(owned=True), True)
        prev_g, owned = prev_g_flagged
    if t is _ndarray and type(prev_g) is _ndarray and g.shape == prev_g.shape and g.dtype == prev_g.dtype:
        if owned:
            prev_g += g
            return prev_g_flagged
        return prev_g + g, True
    return ag_core.add_outgrads(prev_g_flagged, g)


def backward_pass(g, end_node):
    r"""Gradients from the output node back to the input node of a trace (autograd's ``backward_pass``).

    Each node receives the sum of the gradients of its outputs' uses, passes it to its VJP, and adds the results
    into its parents' sums; returns the input's gradient.
    """
    outgrads = {end_node: (g, False)}
    for node in toposort(end_node):
        outgrad = outgrads.pop(node)[0]
        if type(outgrad) is PendingItems:
            outgrad = outgrad.build()
        ingrads = node.vjp(outgrad)
        for parent, ingrad in zip(node.parents, ingrads):
            outgrads[parent] = add_outgrads(outgrads.get(parent), ingrad)
    return outgrad


def unbroadcast_f(target, f):
    r"""``lambda g: unbroadcast(f(g), metadata(target))``: f's gradient summed back to the shape of ``target``.

    autograd's helper; for a NumPy array the metadata (shape, ndim, dtype, is complex) come from its attributes.
    """
    if type(target) is _ndarray:
        dtype = target.dtype
        target_meta = (target.shape, target.ndim, dtype, dtype.kind == "c")
    else:
        target_meta = numpy_vjps.anp.metadata(target)
    return lambda g: numpy_vjps.unbroadcast(f(g), target_meta)
