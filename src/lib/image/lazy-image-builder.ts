import type {BuildRequest, BuiltImage, ImageBuilder, ImageInfo, ListedImage} from './image-builder.js'

/**
 * An ImageBuilder that loads the real one (dockerode, its gRPC and tar dependencies) on its first call:
 * commands that never touch the Docker Engine (`status`, a no-change path) never load it.
 */
export class LazyImageBuilder implements ImageBuilder {
  #builder: Promise<ImageBuilder> | undefined

  constructor(private readonly load: () => Promise<ImageBuilder>) {}

  private builder(): Promise<ImageBuilder> {
    this.#builder ??= this.load()
    return this.#builder
  }

  async hasImage(ref: string): Promise<ImageInfo | null> {
    return (await this.builder()).hasImage(ref)
  }

  async build(request: BuildRequest, onProgress?: (line: string) => void): Promise<BuiltImage> {
    return (await this.builder()).build(request, onProgress)
  }

  async removeImage(ref: string): Promise<boolean> {
    return (await this.builder()).removeImage(ref)
  }

  async listImages(repository: string): Promise<ListedImage[]> {
    return (await this.builder()).listImages(repository)
  }
}
