import {expect} from 'chai'
import {buildahLikeOutput} from './scripts.js'
import {runCommandOf, scriptedShell} from './shell-run.js'

describe('sim: scripted RUN steps', () => {
  it('plays echo, exit, true and false joined by &&, || and ;', () => {
    expect(scriptedShell('echo "checking the image" && exit 3')).to.deep.equal({exitCode: 3, output: ['checking the image']})
    expect(scriptedShell('echo one; echo two')).to.deep.equal({exitCode: 0, output: ['one', 'two']})
    expect(scriptedShell('false && echo never')).to.deep.equal({exitCode: 1, output: []})
    expect(scriptedShell('false || echo rescued')).to.deep.equal({exitCode: 0, output: ['rescued']})
    expect(scriptedShell('true || exit 9')).to.deep.equal({exitCode: 0, output: []})
    expect(scriptedShell("exit 4; echo 'after exit'")).to.deep.equal({exitCode: 4, output: []})
    expect(scriptedShell('echo a\\ b "c  d" \'e;f\'')).to.deep.equal({exitCode: 0, output: ['a b c  d e;f']})
  })

  it('prints nothing for a redirected echo, and takes any other command as a silent success', () => {
    expect(scriptedShell('echo "built with oc-mob" > /etc/oc-mob-release')).to.deep.equal({exitCode: 0, output: []})
    expect(scriptedShell('dnf install -y vim && echo done')).to.deep.equal({exitCode: 0, output: ['done']})
  })

  it('takes the shell command of a shell-form RUN only', () => {
    expect(runCommandOf('RUN echo hi')).to.equal('echo hi')
    expect(runCommandOf('RUN --mount=type=cache,target=/var/cache echo hi')).to.equal('echo hi')
    expect(runCommandOf('RUN ["/bin/false"]')).to.equal(undefined)
    expect(runCommandOf('COPY a b')).to.equal(undefined)
  })

  it("a failing RUN step ends the build with buildah's error, commits and pushes nothing", () => {
    const out = buildahLikeOutput('registry.example/os:tag', 'FROM configs AS final\nRUN echo "checking" && exit 3\nLABEL x=y\n')
    expect(out.exitCode).to.equal(1)
    expect(out.push).to.deep.equal([])
    expect(out.build.slice(-3)).to.deep.equal([
      'STEP 2/3: RUN echo "checking" && exit 3',
      'checking',
      'Error: building at STEP "RUN echo "checking" && exit 3": while running runtime: exit status 3',
    ])
    const ok = buildahLikeOutput('registry.example/os:tag', 'FROM configs AS final\nRUN echo fine\n')
    expect(ok.exitCode).to.equal(0)
    expect(ok.build).to.include('fine')
    expect(ok.build.at(-2)).to.equal('Successfully tagged registry.example/os:tag')
  })
})
