// Generates emulator/fixtures/default.yaml: a small but realistic
// OpenShift 4.14 cluster (3 masters, 2 workers) whose rendered MachineConfigs
// carry exactly the names the render controller computes.
//
//   npx tsx emulator/sim/fixture-gen.ts            # rewrite the fixture
//   npx tsx emulator/sim/fixture-gen.ts --check    # exit 1 if it is stale
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import YAML from 'yaml'
import type {Obj} from './client.js'
import {renderPool, renderedObject, inputsFromControllerConfig} from './render.js'
import {
  CONTROLLER_VERSION,
  MACHINE_ANNOTATION,
  MCO_NS,
  MACHINE_API_NS,
  MOB_SA,
  NODE_CURRENT_CONFIG,
  NODE_DESIRED_CONFIG,
  NODE_STATE,
  NODE_REASON,
  RELEASE_VERSION,
  ROLE_LABEL,
} from './names.js'

export const FIXTURE_PATH = fileURLToPath(new URL('../fixtures/default.yaml', import.meta.url))

const INFRA = 'ocp414-7dxqk'
const REGION = 'us-east-2'
const CREATED = '2024-02-20T09:14:03Z'
const OS_IMAGE_DIGEST = 'sha256:8f1bb2b5b9d1f0e6c0a4f1f7d3e6b2c9a7d5e4c3b2a19081726354f6e7d8c9b0'
const EXT_IMAGE_DIGEST = 'sha256:1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d'
export const BASE_OS_IMAGE = `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${OS_IMAGE_DIGEST}`
export const EXTENSIONS_IMAGE = `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${EXT_IMAGE_DIGEST}`
const RELEASE_IMAGE = 'quay.io/openshift-release-dev/ocp-release@sha256:0a4b8e6c1d5f2a3b7c9e0d1f4a6b8c2e5d7f9a1b3c5e7d9f0a2c4e6b8d0f1a3c'
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF0m3n8xq4r7YbGZk2w9cL1pT5vHs6dJ0eQaRuWnXyBz admin@bastion'

const meta = (name: string, extra: Obj = {}): Obj => ({name, creationTimestamp: CREATED, ...extra})
const dataUrl = (s: string) => `data:,${encodeURIComponent(s)}`
const b64 = (s: string) => Buffer.from(s).toString('base64')

function ignFile(path: string, contents: string, mode = 420): Obj {
  return {contents: {source: dataUrl(contents)}, mode, overwrite: true, path}
}

function machineConfig(name: string, role: string, config: Obj, spec: Obj = {}): Obj {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: meta(name, {
      labels: {[ROLE_LABEL]: role},
      annotations:
        name.startsWith('00-') || name.startsWith('01-') || name.includes('generated')
          ? {'machineconfiguration.openshift.io/generated-by-controller-version': CONTROLLER_VERSION}
          : undefined,
    }),
    spec: {config: {ignition: {version: '3.4.0'}, ...config}, ...spec},
  }
}

function baseConfigs(role: string): Obj[] {
  const kubeletConf = [
    'kind: KubeletConfiguration',
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'cgroupDriver: systemd',
    'maxPods: 250',
    `systemReserved:\n  cpu: 500m\n  memory: 1Gi`,
    '',
  ].join('\n')
  return [
    machineConfig(
      `00-${role}`,
      role,
      {
        storage: {
          files: [
            ignFile(
              '/etc/kubernetes/kubelet-ca.crt',
              '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBQxEjAQBgNVBAMMCWt1\n-----END CERTIFICATE-----\n',
            ),
            ignFile('/etc/sysctl.d/inotify.conf', 'fs.inotify.max_user_watches = 65536\nfs.inotify.max_user_instances = 8192\n'),
            ignFile('/etc/node-sizing-enabled.env', 'NODE_SIZING_ENABLED=false\nSYSTEM_RESERVED_MEMORY=1Gi\nSYSTEM_RESERVED_CPU=500m\n'),
            ignFile('/etc/mco/proxy.env', '# Proxy environment variables will be populated in this file.\n'),
          ],
        },
        systemd: {
          units: [
            {
              name: 'machine-config-daemon-firstboot.service',
              enabled: true,
              contents:
                '[Unit]\nDescription=Machine Config Daemon Firstboot\n\n[Service]\nType=oneshot\nExecStart=/run/bin/machine-config-daemon firstboot-complete-machineconfig\n\n[Install]\nWantedBy=multi-user.target\n',
            },
          ],
        },
      },
      {kernelArguments: ['systemd.unified_cgroup_hierarchy=1', 'cgroup_no_v1="all"', 'psi=0']},
    ),
    machineConfig(`01-${role}-container-runtime`, role, {
      storage: {files: [ignFile('/etc/crio/crio.conf.d/00-default', '[crio.runtime]\nselinux = true\nconmon = ""\n')]},
    }),
    machineConfig(`01-${role}-kubelet`, role, {
      storage: {files: [ignFile('/etc/kubernetes/kubelet.conf', kubeletConf)]},
      systemd: {
        units: [
          {
            name: 'kubelet.service',
            enabled: true,
            contents: `[Unit]\nDescription=Kubernetes Kubelet\nWants=rpc-statd.service crio.service\nAfter=crio.service\n\n[Service]\nExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet.conf --node-labels=node-role.kubernetes.io/${role},node.openshift.io/os_id=rhcos${role === 'master' ? ' --register-with-taints=node-role.kubernetes.io/master=:NoSchedule' : ''}\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n`,
          },
        ],
      },
    }),
    machineConfig(`97-${role}-generated-kubelet`, role, {
      storage: {files: [ignFile('/etc/kubernetes/kubelet-workaround', '')]},
    }),
    machineConfig(`99-${role}-generated-registries`, role, {
      storage: {
        files: [
          ignFile(
            '/etc/containers/registries.conf',
            'unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]\nshort-name-mode = ""\n',
          ),
        ],
      },
    }),
    machineConfig(`99-${role}-ssh`, role, {passwd: {users: [{name: 'core', sshAuthorizedKeys: [SSH_KEY]}]}}),
  ]
}

function pool(role: string, nodeCount: number, rendered: Obj | undefined): Obj {
  const sel = role === 'master' ? {'node-role.kubernetes.io/master': ''} : {'node-role.kubernetes.io/worker': ''}
  const conds = (t: string) => ({lastTransitionTime: CREATED, message: '', reason: '', status: 'False', type: t})
  const p: Obj = {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    metadata: meta(role, {
      labels: {
        'machineconfiguration.openshift.io/mco-built-in': '',
        [`pools.operator.machineconfiguration.openshift.io/${role}`]: '',
      },
    }),
    spec: {
      machineConfigSelector: {matchLabels: {[ROLE_LABEL]: role}},
      nodeSelector: {matchLabels: sel},
      maxUnavailable: 1,
      paused: false,
    },
  }
  if (rendered) {
    const configuration = {name: rendered.name, source: rendered.sources}
    p.spec.configuration = configuration
    p.status = {
      certExpirys: [],
      conditions: [
        {...conds('RenderDegraded')},
        {...conds('NodeDegraded')},
        {...conds('Degraded')},
        {
          lastTransitionTime: CREATED,
          message: `All nodes are updated with ${rendered.name}`,
          reason: '',
          status: 'True',
          type: 'Updated',
        },
        {...conds('Updating')},
      ],
      configuration,
      degradedMachineCount: 0,
      machineCount: nodeCount,
      observedGeneration: 2,
      readyMachineCount: nodeCount,
      unavailableMachineCount: 0,
      updatedMachineCount: nodeCount,
    }
  }
  return p
}

interface NodeSpec {
  name: string
  role: 'master' | 'worker'
  machine: string
  zone: string
  ip: string
}

function node(n: NodeSpec, renderedName: string): Obj {
  const roleLabels =
    n.role === 'master'
      ? {'node-role.kubernetes.io/master': '', 'node-role.kubernetes.io/control-plane': ''}
      : {'node-role.kubernetes.io/worker': ''}
  const instanceType = n.role === 'master' ? 'm6i.xlarge' : 'm6i.large'
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(n.name, {
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': instanceType,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name.split('.')[0],
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': instanceType,
        'node.openshift.io/os_id': 'rhcos',
        'topology.kubernetes.io/region': REGION,
        'topology.kubernetes.io/zone': n.zone,
        ...roleLabels,
      },
      annotations: {
        [MACHINE_ANNOTATION]: `${MACHINE_API_NS}/${n.machine}`,
        [NODE_CURRENT_CONFIG]: renderedName,
        [NODE_DESIRED_CONFIG]: renderedName,
        'machineconfiguration.openshift.io/desiredDrain': `uncordon-${renderedName}`,
        'machineconfiguration.openshift.io/lastAppliedDrain': `uncordon-${renderedName}`,
        [NODE_REASON]: '',
        [NODE_STATE]: 'Done',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    }),
    spec: {
      providerID: `aws:///${n.zone}/i-0${Buffer.from(n.name).toString('hex').slice(0, 16)}`,
      ...(n.role === 'master' ? {taints: [{effect: 'NoSchedule', key: 'node-role.kubernetes.io/master'}]} : {}),
    },
    status: nodeStatus(n.name, n.role === 'master' ? '4' : '2', n.role === 'master' ? '16252988Ki' : '7934872Ki'),
  }
}

/** Status of a healthy RHCOS 4.14 node; the simulated kubelet fills in its port at start. */
export function nodeStatus(name: string, cpu = '2', memory = '7934872Ki'): Obj {
  const cond = (type: string, status: string, reason: string, message: string) => ({
    lastHeartbeatTime: CREATED,
    lastTransitionTime: CREATED,
    message,
    reason,
    status,
    type,
  })
  return {
    addresses: [
      {address: '127.0.0.1', type: 'InternalIP'},
      {address: name.split('.')[0], type: 'Hostname'},
      {address: name, type: 'InternalDNS'},
    ],
    allocatable: {cpu: cpu === '2' ? '1500m' : '3500m', 'ephemeral-storage': '114396791822', memory, pods: '250'},
    capacity: {cpu, 'ephemeral-storage': '125293548Ki', memory, pods: '250'},
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    daemonEndpoints: {kubeletEndpoint: {Port: 10250}},
    nodeInfo: {
      architecture: 'amd64',
      bootID: '3c0f3b0e-5d61-4f5a-9b0c-2f9b8b1e7a44',
      containerRuntimeVersion: 'cri-o://1.27.3-6.rhaos4.14.git7eb2281.el9',
      kernelVersion: '5.14.0-284.52.1.el9_2.x86_64',
      kubeProxyVersion: 'v1.27.10+c79e5e2',
      kubeletVersion: 'v1.27.10+c79e5e2',
      machineID: 'ec2b4f0b2f1d4a4c9d2e3f1a5b6c7d8e',
      operatingSystem: 'linux',
      osImage: 'Red Hat Enterprise Linux CoreOS 414.92.202402130420-0 (Plow)',
      systemUUID: 'ec2b4f0b-2f1d-4a4c-9d2e-3f1a5b6c7d8e',
    },
  }
}

const MACHINESET = `${INFRA}-worker-${REGION}a`

/** Labels a worker Machine of the fixture's MachineSet carries. */
export function workerMachineLabels(): Record<string, string> {
  return {
    'machine.openshift.io/cluster-api-cluster': INFRA,
    'machine.openshift.io/cluster-api-machine-role': 'worker',
    'machine.openshift.io/cluster-api-machine-type': 'worker',
    'machine.openshift.io/cluster-api-machineset': MACHINESET,
  }
}

function awsProviderSpec(role: string, zone: string): Obj {
  return {
    value: {
      apiVersion: 'machine.openshift.io/v1beta1',
      kind: 'AWSMachineProviderConfig',
      ami: {id: 'ami-0f3e1c2b4a5d6e7f8'},
      instanceType: role === 'master' ? 'm6i.xlarge' : 'm6i.large',
      placement: {availabilityZone: zone, region: REGION},
      iamInstanceProfile: {id: `${INFRA}-${role}-profile`},
      credentialsSecret: {name: 'aws-cloud-credentials'},
      userDataSecret: {name: `${role}-user-data`},
      subnet: {filters: [{name: 'tag:Name', values: [`${INFRA}-private-${zone}`]}]},
      securityGroups: [{filters: [{name: 'tag:Name', values: [`${INFRA}-${role}-sg`]}]}],
    },
  }
}

function machine(n: NodeSpec): Obj {
  const labels =
    n.role === 'master'
      ? {
          'machine.openshift.io/cluster-api-cluster': INFRA,
          'machine.openshift.io/cluster-api-machine-role': 'master',
          'machine.openshift.io/cluster-api-machine-type': 'master',
        }
      : workerMachineLabels()
  return {
    apiVersion: 'machine.openshift.io/v1beta1',
    kind: 'Machine',
    metadata: meta(n.machine, {
      namespace: MACHINE_API_NS,
      labels: {
        ...labels,
        'machine.openshift.io/instance-type': n.role === 'master' ? 'm6i.xlarge' : 'm6i.large',
        'machine.openshift.io/region': REGION,
        'machine.openshift.io/zone': n.zone,
      },
      annotations: {'machine.openshift.io/instance-state': 'running'},
      finalizers: ['machine.machine.openshift.io'],
      ...(n.role === 'worker'
        ? {
            ownerReferences: [
              {
                apiVersion: 'machine.openshift.io/v1beta1',
                kind: 'MachineSet',
                name: MACHINESET,
                uid: MACHINESET_UID,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    }),
    spec: {
      lifecycleHooks: {},
      metadata: {},
      providerID: `aws:///${n.zone}/i-0${Buffer.from(n.name).toString('hex').slice(0, 16)}`,
      providerSpec: awsProviderSpec(n.role, n.zone),
    },
    status: {
      addresses: [
        {address: n.ip, type: 'InternalIP'},
        {address: n.name, type: 'InternalDNS'},
        {address: n.name.split('.')[0], type: 'Hostname'},
      ],
      lastUpdated: CREATED,
      nodeRef: {kind: 'Node', name: n.name},
      phase: 'Running',
      providerStatus: {instanceId: `i-0${Buffer.from(n.name).toString('hex').slice(0, 16)}`, instanceState: 'running'},
    },
  }
}

const MACHINESET_UID = '6a1e0c52-93f1-4b8e-bb5d-0c1f2e3d4a5b'

export function buildFixture(): Obj[] {
  const nodes: NodeSpec[] = [
    {
      name: 'ip-10-0-15-201.us-east-2.compute.internal',
      role: 'master',
      machine: `${INFRA}-master-0`,
      zone: `${REGION}a`,
      ip: '10.0.15.201',
    },
    {name: 'ip-10-0-41-92.us-east-2.compute.internal', role: 'master', machine: `${INFRA}-master-1`, zone: `${REGION}b`, ip: '10.0.41.92'},
    {
      name: 'ip-10-0-77-143.us-east-2.compute.internal',
      role: 'master',
      machine: `${INFRA}-master-2`,
      zone: `${REGION}c`,
      ip: '10.0.77.143',
    },
    {
      name: 'ip-10-0-22-17.us-east-2.compute.internal',
      role: 'worker',
      machine: `${MACHINESET}-x4mzq`,
      zone: `${REGION}a`,
      ip: '10.0.22.17',
    },
    {
      name: 'ip-10-0-29-188.us-east-2.compute.internal',
      role: 'worker',
      machine: `${MACHINESET}-p7k2c`,
      zone: `${REGION}a`,
      ip: '10.0.29.188',
    },
  ]
  const controllerConfig: Obj = {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'ControllerConfig',
    metadata: meta('machine-config-controller', {
      annotations: {'machineconfiguration.openshift.io/generated-by-controller-version': CONTROLLER_VERSION},
    }),
    spec: {
      baseOSContainerImage: BASE_OS_IMAGE,
      baseOSExtensionsContainerImage: EXTENSIONS_IMAGE,
      osImageURL: BASE_OS_IMAGE,
      releaseImage: RELEASE_IMAGE,
      clusterDNSIP: '172.30.0.10',
      cloudProviderConfig: '',
      ipFamilies: 'IPv4',
      platform: 'aws',
      infra: {
        apiVersion: 'config.openshift.io/v1',
        kind: 'Infrastructure',
        spec: {platformSpec: {type: 'AWS'}},
        status: {
          infrastructureName: INFRA,
          platform: 'AWS',
          controlPlaneTopology: 'HighlyAvailable',
          infrastructureTopology: 'HighlyAvailable',
        },
      },
      kubeAPIServerServingCAData: b64('-----BEGIN CERTIFICATE-----\nfixture\n-----END CERTIFICATE-----\n'),
      rootCAData: b64('-----BEGIN CERTIFICATE-----\nfixture-root\n-----END CERTIFICATE-----\n'),
    },
    status: {
      observedGeneration: 1,
      conditions: [{type: 'TemplateControllerCompleted', status: 'True', lastTransitionTime: CREATED, message: '', reason: ''}],
    },
  }
  const mcs = [...baseConfigs('master'), ...baseConfigs('worker')]
  const inputs = inputsFromControllerConfig(controllerConfig)
  const pools = [pool('master', 3, undefined), pool('worker', 2, undefined)]
  const rendered: Obj[] = []
  const renderedByPool: Record<string, Obj> = {}
  for (const p of pools) {
    const r = renderPool(p, mcs, inputs)!
    renderedByPool[p.metadata.name] = r
    const obj = renderedObject({metadata: {name: p.metadata.name, uid: POOL_UIDS[p.metadata.name]}}, r)
    obj.metadata.creationTimestamp = CREATED
    rendered.push(obj)
  }
  const poolObjs = ['master', 'worker'].map((role) => {
    const p = pool(role, role === 'master' ? 3 : 2, renderedByPool[role])
    p.metadata.uid = POOL_UIDS[role]
    return p
  })

  const ns = (name: string, extra: Obj = {}) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: meta(name, extra),
    spec: {finalizers: ['kubernetes']},
    status: {phase: 'Active'},
  })
  const openshiftNs = (name: string) =>
    ns(name, {
      labels: {'kubernetes.io/metadata.name': name, 'openshift.io/cluster-monitoring': 'true', 'openshift.io/run-level': ''},
      annotations: {'openshift.io/node-selector': '', 'openshift.io/sa.scc.uid-range': '1000590000/10000'},
    })

  const registryAuth = (u: string) => b64(`${u}:${b64(u + '-token').replace(/=/g, '')}`)
  const pullSecret = {
    auths: {
      'cloud.openshift.com': {auth: registryAuth('openshift-release-dev+ocm_access'), email: 'admin@example.com'},
      'quay.io': {auth: registryAuth('openshift-release-dev+ocm_access'), email: 'admin@example.com'},
      'registry.connect.redhat.com': {auth: registryAuth('uhc-pool'), email: 'admin@example.com'},
      'registry.redhat.io': {auth: registryAuth('uhc-pool'), email: 'admin@example.com'},
    },
  }
  const internalRegistry = 'image-registry.openshift-image-registry.svc:5000'
  const builderToken =
    'eyJhbGciOiJSUzI1NiIsImtpZCI6ImZpeHR1cmUifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6b3BlbnNoaWZ0LW1hY2hpbmUtY29uZmlnLW9wZXJhdG9yOmJ1aWxkZXIifQ.c2lnbmF0dXJl'
  const legacyDockercfg: Obj = {}
  for (const host of [internalRegistry, 'image-registry.openshift-image-registry.svc.cluster.local:5000', '172.30.33.81:5000']) {
    legacyDockercfg[host] = {
      username: '<token>',
      password: builderToken,
      email: 'serviceaccount@example.org',
      auth: b64(`<token>:${builderToken}`),
    }
  }
  const builderSecretName = 'builder-dockercfg-7wq9x'

  const objects: Obj[] = [
    ns('default'),
    ns('kube-system'),
    openshiftNs('openshift-config'),
    openshiftNs(MCO_NS),
    openshiftNs(MACHINE_API_NS),
    openshiftNs('openshift-image-registry'),
    ...nodes.map((n) => node(n, renderedByPool[n.role].name)),
    {
      apiVersion: 'machine.openshift.io/v1beta1',
      kind: 'MachineSet',
      metadata: meta(MACHINESET, {
        namespace: MACHINE_API_NS,
        uid: MACHINESET_UID,
        labels: {'machine.openshift.io/cluster-api-cluster': INFRA},
        annotations: {
          'machine.openshift.io/memoryMb': '8192',
          'machine.openshift.io/vCPU': '2',
          'capacity.cluster-autoscaler.kubernetes.io/labels': 'kubernetes.io/arch=amd64',
        },
      }),
      spec: {
        replicas: 2,
        deletePolicy: 'Random',
        selector: {
          matchLabels: {'machine.openshift.io/cluster-api-cluster': INFRA, 'machine.openshift.io/cluster-api-machineset': MACHINESET},
        },
        template: {
          metadata: {labels: workerMachineLabels()},
          spec: {lifecycleHooks: {}, metadata: {}, providerSpec: awsProviderSpec('worker', `${REGION}a`)},
        },
      },
      status: {availableReplicas: 2, fullyLabeledReplicas: 2, observedGeneration: 1, readyReplicas: 2, replicas: 2},
    },
    ...nodes.map(machine),
    ...mcs,
    ...rendered,
    ...poolObjs,
    controllerConfig,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('machine-config-osimageurl', {
        namespace: MCO_NS,
        annotations: {'include.release.openshift.io/self-managed-high-availability': 'true'},
      }),
      data: {
        baseOSContainerImage: BASE_OS_IMAGE,
        baseOSExtensionsContainerImage: EXTENSIONS_IMAGE,
        osImageURL: '',
        releaseVersion: RELEASE_VERSION,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('pull-secret', {namespace: 'openshift-config'}),
      type: 'kubernetes.io/dockerconfigjson',
      data: {'.dockerconfigjson': b64(JSON.stringify(pullSecret))},
    },
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default', {namespace: MCO_NS})},
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('builder', {namespace: MCO_NS, annotations: {'openshift.io/internal-registry-pull-secret-ref': builderSecretName}}),
      imagePullSecrets: [{name: builderSecretName}],
      secrets: [{name: builderSecretName}],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(builderSecretName, {
        namespace: MCO_NS,
        annotations: {
          'kubernetes.io/service-account.name': 'builder',
          'openshift.io/internal-registry-auth-token.binding': 'bound',
          'openshift.io/internal-registry-auth-token.service-account': 'builder',
        },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            name: 'builder',
            uid: '0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a',
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
      }),
      type: 'kubernetes.io/dockercfg',
      data: {'.dockercfg': b64(JSON.stringify(legacyDockercfg))},
    },
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(MOB_SA, {namespace: MCO_NS})},
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('machine-config-daemon', {namespace: MCO_NS})},
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('builder', {namespace: 'default'})},
    {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: meta('rhel-coreos', {namespace: 'openshift-machine-config-operator'}),
      spec: {lookupPolicy: {local: false}},
      status: {dockerImageRepository: `${internalRegistry}/${MCO_NS}/rhel-coreos`},
    },
    {
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterOperator',
      metadata: meta('machine-config'),
      spec: {},
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-11-02T09:31:12Z',
            message: `Cluster version is ${RELEASE_VERSION}`,
            reason: '',
            status: 'True',
            type: 'Available',
          },
          {
            lastTransitionTime: '2026-11-02T09:31:12Z',
            message: `Cluster version is ${RELEASE_VERSION}`,
            reason: '',
            status: 'False',
            type: 'Progressing',
          },
          {lastTransitionTime: '2026-11-02T09:31:12Z', message: '', reason: '', status: 'False', type: 'Degraded'},
          {lastTransitionTime: '2026-11-02T09:31:12Z', message: '', reason: 'AsExpected', status: 'True', type: 'Upgradeable'},
        ],
        relatedObjects: [{group: '', name: 'openshift-machine-config-operator', resource: 'namespaces'}],
        versions: [{name: 'operator', version: RELEASE_VERSION}],
      },
    },
  ]
  return objects
}

const POOL_UIDS: Record<string, string> = {
  master: '1f6a9d4e-2b3c-4d5e-8f90-a1b2c3d4e5f6',
  worker: '7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f',
}

export function fixtureYaml(): string {
  const header =
    '# A simulated OpenShift 4.14 cluster (AWS IPI, 3 masters + 2 workers).\n' +
    '# Generated by emulator/sim/fixture-gen.ts; edit that file and regenerate.\n'
  return (
    header +
    buildFixture()
      .map((o) => YAML.stringify(o, {lineWidth: 0}))
      .map((s) => `---\n${s}`)
      .join('')
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = fixtureYaml()
  if (process.argv.includes('--check')) {
    const cur = readFileSync(FIXTURE_PATH, 'utf8')
    if (cur !== text) {
      console.error('default.yaml is stale: run npx tsx emulator/sim/fixture-gen.ts')
      process.exit(1)
    }
  } else {
    writeFileSync(FIXTURE_PATH, text)
    console.log(`wrote ${FIXTURE_PATH}`)
  }
}
