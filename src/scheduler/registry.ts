/* The kinds a scheduler knows: top-level kinds (the first segment of a
 * document key) and the descriptors of derived items. */
import { VecgateError } from '../errors';
import { AnyDescriptor } from './descriptor';

export class Registry {
  private readonly kinds = new Map<string, AnyDescriptor>();
  private readonly all = new Map<string, AnyDescriptor>();

  /* A kind that documents may hold; it needs validateName and validate. */
  addKind(d: AnyDescriptor): this {
    if (!d.validateName || !d.validate) throw new VecgateError('REGISTRY', `kind ${d.name} needs validateName and validate`);
    this.kinds.set(d.name, d);
    return this.addDerived(d);
  }

  /* A descriptor of derived items only (no document key). */
  addDerived(d: AnyDescriptor): this {
    if (this.all.has(d.name)) throw new VecgateError('REGISTRY', `descriptor ${d.name} is registered twice`);
    this.all.set(d.name, d);
    return this;
  }

  kind(name: string): AnyDescriptor | undefined {
    return this.kinds.get(name);
  }

  kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  /* Every descriptor, kinds and derived, in the order registered. */
  descriptors(): AnyDescriptor[] {
    return [...this.all.values()];
  }

  descriptor(name: string): AnyDescriptor {
    const d = this.all.get(name);
    if (!d) throw new VecgateError('REGISTRY', `no descriptor ${name}`);
    return d;
  }
}
