import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ResourceNotFoundException } from '../engine/errors.ts';
import { CONTENT_PATH_PREFIX, type ContentUrls } from './content-urls.ts';
import { datasetName as datasetNameShape } from '../model/common.ts';
import { parseQuery, splitUrl } from './wire.ts';

/**
 * The farmers' read-only view, open without credentials: a list of the datasets tagged public and a
 * download of each one's latest successful content. Nothing else is reachable from here; a dataset that
 * is not public answers exactly as one that does not exist. The weather page is cloud/dashboard/weather-routes.ts.
 */

export const PUBLIC_PREFIX = '/public/datasets';
const LIST_PAGE = 250;

export interface PublicRouteOptions {
  engine: Engine;
  contentUrls: ContentUrls;
  publicTag: { key: string; value: string };
}

export interface PublicDataset {
  datasetName: string;
  /** When its latest succeeded content was made (epoch seconds); absent while it has none. */
  lastUpdateTime?: number;
  csv: string;
}

async function isPublicDataset(engine: Engine, publicTag: PublicRouteOptions['publicTag'], name: string): Promise<boolean> {
  const arn = (await engine.describeDataset({ datasetName: name })).dataset?.arn;
  if (!arn) return false;
  const tags = (await engine.listTagsForResource({ resourceArn: arn })).tags ?? [];
  return tags.some((t) => t.key === publicTag.key && t.value === publicTag.value);
}

/** When the content a download serves ($LATEST_SUCCEEDED) was made, epoch ms: not when the dataset was created or last edited. */
async function contentMadeAt(engine: Engine, datasetName: string): Promise<number | undefined> {
  const { datasetContentSummaries = [] } = await engine.listDatasetContents({ datasetName });
  const succeeded = datasetContentSummaries.find((c) => c.status?.state === 'SUCCEEDED');
  return (succeeded?.completionTime ?? succeeded?.creationTime)?.getTime();
}

/** The datasets tagged public, with the path of each one's latest CSV (also the weather page's downloads). */
export async function listPublicDatasets(engine: Engine, publicTag: PublicRouteOptions['publicTag']): Promise<PublicDataset[]> {
  const datasets: PublicDataset[] = [];
  let nextToken: string | undefined;
  do {
    const page = await engine.listDatasets({ maxResults: LIST_PAGE, nextToken });
    for (const summary of page.datasetSummaries ?? []) {
      if (!summary.datasetName || !(await isPublicDataset(engine, publicTag, summary.datasetName))) continue;
      const madeAt = await contentMadeAt(engine, summary.datasetName);
      datasets.push({
        datasetName: summary.datasetName,
        lastUpdateTime: madeAt === undefined ? undefined : madeAt / 1000,
        csv: `${PUBLIC_PREFIX}/${summary.datasetName}/latest.csv`,
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return datasets;
}

export function registerPublicRoutes(app: FastifyInstance, options: PublicRouteOptions): void {
  const { engine, contentUrls, publicTag } = options;

  const isPublic = (name: string) => isPublicDataset(engine, publicTag, name);

  const notPublic = (name: string) => new ResourceNotFoundException(`No public dataset is named ${name}; the list at ${PUBLIC_PREFIX} shows the public ones.`);

  app.get(PUBLIC_PREFIX, async (_request, reply) => {
    const datasets = await listPublicDatasets(engine, publicTag);
    return reply.type('application/json').send(JSON.stringify({ datasets }));
  });

  app.get(`${PUBLIC_PREFIX}/:datasetName/latest.csv`, async (request, reply) => {
    const { datasetName } = request.params as { datasetName: string };
    if (!datasetNameShape.safeParse(datasetName).success) throw notPublic(datasetName.slice(0, 128));
    try {
      if (!(await isPublic(datasetName))) throw notPublic(datasetName);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw notPublic(datasetName);
      throw error;
    }
    const content = await engine.getDatasetContent({ datasetName, versionId: '$LATEST_SUCCEEDED' });
    const link = content.entries?.[0]?.dataURI;
    if (!link) throw new ResourceNotFoundException(`Dataset ${datasetName} has no finished content yet; try again after its next scheduled run.`);
    // The engine names the file through our own signed link; reading it back gives the content reference.
    const { path, query } = splitUrl(link.slice(link.indexOf(CONTENT_PATH_PREFIX)));
    const [name, versionId, entryName] = path.slice(CONTENT_PATH_PREFIX.length + 1).split('/').map(decodeURIComponent);
    const check = contentUrls.verify({ datasetName: name ?? '', versionId: versionId ?? '', entryName: entryName ?? '' }, parseQuery(query));
    if (!check.ok) throw new ResourceNotFoundException(`Dataset ${datasetName} has no downloadable content.`);
    const file = await engine.openDatasetContent(check.ref);
    return reply
      .type(file.contentType)
      .header('content-length', file.sizeBytes)
      .header('content-disposition', `attachment; filename="${datasetName}.csv"`)
      .header('cache-control', 'public, max-age=60')
      .send(Readable.from(file.chunks()));
  });
}
