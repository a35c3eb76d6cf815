import type { AdapterLoading, ManifestFormat, ManifestTemplate } from './manifest-template.js';

/** What a template is rendered from: a pool's plan revision and the profile figures its objects hold. */
export interface TemplateKey {
  pool: string;
  format: ManifestFormat;
  /** the objects differ with it (absent: startup) */
  adapterLoading?: AdapterLoading;
  /** changes whenever the plan does (null: unknown, never kept) */
  revision: string | null;
  profile: { maxModelLen: number; vllmVersion: string; hfModelId?: string };
}

/** A template and the key it was rendered for (the plan read may be newer than the revision asked for). */
export interface RenderedTemplate {
  template: ManifestTemplate;
  key: TemplateKey;
}

const idOf = (key: TemplateKey): string => `${key.pool}\n${key.format}\n${key.adapterLoading ?? 'startup'}`;
const versionOf = (key: TemplateKey): string | null =>
  key.revision === null
    ? null
    : `${key.revision}\n${key.profile.maxModelLen}\n${key.profile.vllmVersion}\n${key.profile.hfModelId ?? ''}`;

/**
 * Rendered manifest templates, at most one per pool, format and adapter loading (a new revision replaces the old
 * one), bounded by the characters they hold and dropped least recently used first. Requests that arrive while their
 * template is being rendered wait for that render. A template larger than the whole bound is answered but not kept.
 */
export class ManifestCache {
  private readonly entries = new Map<string, { version: string; template: ManifestTemplate }>();
  private readonly rendering = new Map<string, { version: string | null; done: Promise<ManifestTemplate> }>();
  private held = 0;
  private rendered = 0;

  constructor(
    /** most bytes (characters of text) kept */
    readonly maxBytes: number,
    private readonly onRender?: (format: ManifestFormat) => void,
  ) {}

  /** bytes held now */
  get bytes(): number {
    return this.held;
  }

  /** renders done since start */
  get renders(): number {
    return this.rendered;
  }

  /** The template of `key`, rendered by `render` unless kept (or being rendered). */
  template(key: TemplateKey, render: () => Promise<RenderedTemplate>): Promise<ManifestTemplate> {
    const id = idOf(key);
    const version = versionOf(key);
    const kept = this.entries.get(id);
    if (kept && kept.version === version) {
      // least recently used first: a hit moves to the end
      this.entries.delete(id);
      this.entries.set(id, kept);
      return Promise.resolve(kept.template);
    }
    const pending = this.rendering.get(id);
    if (pending && version !== null && pending.version === version) return pending.done;
    const done = render().then(({ template, key: renderedKey }) => {
      this.rendered++;
      this.onRender?.(renderedKey.format);
      this.keep(idOf(renderedKey), versionOf(renderedKey), template);
      return template;
    });
    this.rendering.set(id, { version, done });
    const settled = (): void => {
      if (this.rendering.get(id)?.done === done) this.rendering.delete(id);
    };
    done.then(settled, settled);
    return done;
  }

  private keep(id: string, version: string | null, template: ManifestTemplate): void {
    this.drop(id);
    if (version === null || template.chars > this.maxBytes) return;
    this.entries.set(id, { version, template });
    this.held += template.chars;
    for (const oldest of this.entries.keys()) {
      if (this.held <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.held -= entry.template.chars;
  }
}
