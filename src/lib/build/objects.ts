/**
 * The ephemeral objects of one build, as the 4.14/4.15 BuildController (PodBuildController) creates
 * them: `mc-<R>` and `dockerfile-<R>` ConfigMaps and the `build-<R>` pod, with the operator's names,
 * labels, annotation, containers, environment and volumes, so that the cluster's own controllers
 * recognise, join and clean up a build oc-mob started (and the other way round).
 */
import type {ConfigMap, Pod} from '../kube/types.js'
import {BUILD_LABELS, BUILD_POOL_ANNOTATION, buildNames, MACHINE_OS_BUILDER, MCO_NAMESPACE} from '../mco/constants.js'

/** The builder image the 4.14 operator hard-codes for the image-build container. */
export const BUILDAH_IMAGE = 'quay.io/buildah/stable:latest'

export const BUILD_CONTAINERS = {imageBuild: 'image-build', waitForDone: 'wait-for-done'} as const

/**
 * The image-build container's script: copy the build context from the mounted ConfigMaps, build
 * with buildah using the base image pull secret, push with the final image push secret and write
 * the pushed digest to the shared `done` volume. (Same commands and flags as the operator's
 * buildah-build.sh; the operator's file itself is not reproduced.)
 */
export const BUILDAH_BUILD_SCRIPT = `#!/usr/bin/env bash
# Build the layered OS image from the mounted build context and push it.
set -xeuo

build_context="$HOME/context"
mkdir -p "$build_context/machineconfig"

cp /tmp/dockerfile/Dockerfile "$build_context"
cp /tmp/machineconfig/machineconfig.json.gz "$build_context/machineconfig/"

buildah bud \\
\t--storage-driver vfs \\
\t--authfile="$BASE_IMAGE_PULL_CREDS" \\
\t--tag "$TAG" \\
\t--file="$build_context/Dockerfile" "$build_context"

buildah push \\
\t--storage-driver vfs \\
\t--authfile="$FINAL_IMAGE_PUSH_CREDS" \\
\t--digestfile="/tmp/done/digestfile" \\
\t--cert-dir /var/run/secrets/kubernetes.io/serviceaccount "$TAG"
`

/**
 * The wait-for-done container's script: wait for the digest file, then store it in the
 * `digest-<R>` ConfigMap the controller reads. Like the operator's wait.sh it waits forever when
 * the build fails, which keeps a failed 4.14 build pod Running (oc-mob detects that).
 */
export const WAIT_FOR_DONE_SCRIPT = `#!/usr/bin/env bash
# Publish the pushed image digest once the image-build container has written it.
while [ ! -f "/tmp/done/digestfile" ]
do
\tsleep 1
done

oc create configmap \\
\t"$DIGEST_CONFIGMAP_NAME" \\
\t--namespace openshift-machine-config-operator \\
\t--from-file=digest=/tmp/done/digestfile
`

export interface BuildObjectInputs {
  pool: string
  /** The rendered MachineConfig name <R>. */
  rendered: string
  /** finalImagePullspec with its tag replaced by <R>. */
  tag: string
  /** baseOSContainerImage: the wait-for-done container runs in it (RHCOS ships `oc`). */
  baseImage: string
  /** Secret names as the pod mounts them (possibly the `-canonical` copies). */
  pullSecret: string
  pushSecret: string
  /** base64(gzip(json(rendered MC))). */
  encodedMachineConfig: string
  dockerfile: string
}

export function buildLabels(pool: string, rendered: string): Record<string, string> {
  return {
    [BUILD_LABELS.buildPod]: '',
    [BUILD_LABELS.desiredConfig]: rendered,
    [BUILD_LABELS.targetPool]: pool,
  }
}

/** The label selector of one pool's build objects for one rendered config. */
export function buildSelector(pool: string, rendered?: string): string {
  const parts = [BUILD_LABELS.buildPod, `${BUILD_LABELS.targetPool}=${pool}`]
  if (rendered) parts.push(`${BUILD_LABELS.desiredConfig}=${rendered}`)
  return parts.join(',')
}

function meta(name: string, pool: string, rendered: string) {
  return {
    annotations: {[BUILD_POOL_ANNOTATION]: ''},
    labels: buildLabels(pool, rendered),
    name,
    namespace: MCO_NAMESPACE,
  }
}

export function machineConfigConfigMap(i: BuildObjectInputs): ConfigMap {
  return {
    apiVersion: 'v1',
    data: {'machineconfig.json.gz': i.encodedMachineConfig},
    kind: 'ConfigMap',
    metadata: meta(buildNames(i.rendered).machineConfig, i.pool, i.rendered),
  }
}

export function dockerfileConfigMap(i: BuildObjectInputs): ConfigMap {
  return {
    apiVersion: 'v1',
    data: {Dockerfile: i.dockerfile},
    kind: 'ConfigMap',
    metadata: meta(buildNames(i.rendered).dockerfile, i.pool, i.rendered),
  }
}

export function buildPod(i: BuildObjectInputs): Pod {
  const names = buildNames(i.rendered)
  const env = [
    {name: 'DIGEST_CONFIGMAP_NAME', value: names.digest},
    {name: 'HOME', value: '/home/build'},
    {name: 'TAG', value: i.tag},
    {name: 'BASE_IMAGE_PULL_CREDS', value: '/tmp/base-image-pull-creds/config.json'},
    {name: 'FINAL_IMAGE_PUSH_CREDS', value: '/tmp/final-image-push-creds/config.json'},
  ]
  const volumeMounts = [
    {mountPath: '/tmp/machineconfig', name: 'machineconfig'},
    {mountPath: '/tmp/dockerfile', name: 'dockerfile'},
    {mountPath: '/tmp/base-image-pull-creds', name: 'base-image-pull-creds'},
    {mountPath: '/tmp/final-image-push-creds', name: 'final-image-push-creds'},
    {mountPath: '/tmp/done', name: 'done'},
  ]
  const securityContext = {runAsGroup: 1000, runAsUser: 1000}
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(names.build, i.pool, i.rendered),
    spec: {
      containers: [
        {
          command: ['/bin/bash', '-c', BUILDAH_BUILD_SCRIPT],
          env,
          image: BUILDAH_IMAGE,
          imagePullPolicy: 'Always',
          name: BUILD_CONTAINERS.imageBuild,
          securityContext,
          volumeMounts,
        },
        {
          command: ['/bin/bash', '-c', WAIT_FOR_DONE_SCRIPT],
          env,
          image: i.baseImage,
          imagePullPolicy: 'Always',
          name: BUILD_CONTAINERS.waitForDone,
          securityContext,
          volumeMounts,
        },
      ],
      restartPolicy: 'Never',
      serviceAccountName: MACHINE_OS_BUILDER,
      volumes: [
        {configMap: {name: names.machineConfig}, name: 'machineconfig'},
        {configMap: {name: names.dockerfile}, name: 'dockerfile'},
        {name: 'base-image-pull-creds', secret: {items: [{key: '.dockerconfigjson', path: 'config.json'}], secretName: i.pullSecret}},
        {name: 'final-image-push-creds', secret: {items: [{key: '.dockerconfigjson', path: 'config.json'}], secretName: i.pushSecret}},
        {emptyDir: {medium: 'Memory'}, name: 'done'},
      ],
    },
  }
}
